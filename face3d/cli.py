"""The ``face3d`` command.

Each subcommand lives in its own module under ``face3d/commands/`` with two functions:
``register(subparsers)`` adds its parser, ``run(args) -> int`` does the work. Modules
import heavy libraries (moderngl, sounddevice, trimesh) inside ``run`` only, so
``face3d --help`` and the pure commands start fast.

Every :class:`~face3d.errors.Face3DError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from face3d import __version__
from face3d.errors import Face3DError

#: (command name, module) in the order ``--help`` lists them.
COMMANDS = [
    ("demo", "face3d.commands.demo"),
    ("view", "face3d.commands.view"),
    ("snapshot", "face3d.commands.snapshot"),
    ("render", "face3d.commands.render"),
    ("rig", "face3d.commands.rig"),
    ("export", "face3d.commands.export"),
    ("plot", "face3d.commands.plot"),
    ("stream", "face3d.commands.stream"),
    ("serve", "face3d.commands.serve"),
    ("record", "face3d.commands.record"),
    ("devices", "face3d.commands.devices"),
]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="face3d", description="Make a 3D head talk from sound.")
    parser.add_argument("--version", action="version", version=f"face3d {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a command whose module is not present in this build
            if exc.name == module:
                continue
            raise
        p = mod.register(sub)
        p.set_defaults(_run=mod.run)
    return parser


#: the command an option's example names first, when several take it
EXAMPLE_ORDER = ("snapshot", "render", "export", "view", "stream", "record", "plot", "rig", "demo", "devices")


def option_before_command(parser, argv) -> str | None:
    """The one-line error for a command's option given before any command (``face3d --yaw
    30``), naming the commands that take it; None when there is none to make."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    own = {o for a in parser._actions for o in a.option_strings}
    for i, token in enumerate(argv):
        if not token.startswith("-") or token == "-":
            return None                       # a command (or a stray word: argparse says so)
        option = token.split("=", 1)[0]
        if option in own:
            continue
        takers = [name for name in EXAMPLE_ORDER if sub is not None and name in sub.choices
                  and option in sub.choices[name]._option_string_actions]
        if not takers:
            return None                       # no command knows it: argparse's "unrecognized"
        takes_value = sub.choices[takers[0]]._option_string_actions[option].nargs != 0
        value = "" if not takes_value else token.split("=", 1)[1] if "=" in token else \
            (argv[i + 1] if i + 1 < len(argv) else "")
        example = " ".join(x for x in ("face3d", takers[0], option, value) if x)
        return (f"face3d: error: {option} needs a command first, e.g. {example} "
                f"({option} goes with {', '.join(n for n, _ in COMMANDS if n in takers)}; see 'face3d --help')")
    return None


def main(argv=None) -> int:
    parser = build_parser()
    line = option_before_command(parser, list(sys.argv[1:] if argv is None else argv))
    if line:
        print(line, file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = parser.parse_args(["demo", *(argv or [])])
    try:
        return int(args._run(args) or 0)
    except Face3DError as exc:
        if args.verbose:
            raise
        print(f"face3d {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"face3d {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
