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


def main(argv=None) -> int:
    parser = build_parser()
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
