"""``face3d devices``: list sound input and output devices."""

from __future__ import annotations

HELP = "list sound devices (inputs for 'face3d record --device', outputs)"


def register(subparsers):
    p = subparsers.add_parser("devices", help=HELP, description=HELP + ". '>' marks the default input, '<' the default output.")
    p.add_argument("--inputs", action="store_true", help="only devices with input channels")
    return p


def run(args) -> int:
    from face3d.audio.mic import list_devices

    devs = list_devices()
    if args.inputs:
        devs = [d for d in devs if d["max_input_channels"] > 0]
    if not devs:
        print("no sound devices found")
        return 0
    w = max(len(d["name"]) for d in devs)
    print(f"   {'#':>3}  {'name':<{w}}  {'in':>3}  {'out':>3}  {'rate':>6}  host API")
    for d in devs:
        mark = (">" if d["default_input"] else " ") + ("<" if d["default_output"] else " ")
        print(
            f"{mark} {d['index']:>3}  {d['name']:<{w}}  {d['max_input_channels']:>3}  "
            f"{d['max_output_channels']:>3}  {d['default_samplerate']:>6.0f}  {d['hostapi']}"
        )
    return 0
