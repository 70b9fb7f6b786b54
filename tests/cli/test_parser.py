"""`reqflo`'s parser is built only as far as an argv needs; what it prints stays the same."""

from __future__ import annotations

import argparse

import pytest

from reqflo.cli.main import _COMMANDS, build_parser


def help_of(parser: argparse.ArgumentParser, *path: str) -> str:
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser.format_help()


def test_the_top_level_help_lists_every_command_without_building_them() -> None:
    assert help_of(build_parser("")) == help_of(build_parser())
    assert help_of(build_parser("no-such-command")) == help_of(build_parser())


@pytest.mark.parametrize("name", [name for name, *_ in _COMMANDS])
def test_a_command_built_alone_is_the_command_built_with_all(name: str) -> None:
    assert help_of(build_parser(name), name) == help_of(build_parser(), name)


def test_an_argv_parses_the_same_with_the_parser_built_for_it() -> None:
    argv = ["run", "j.yaml", "--env", "e", "--set", "a=1", "--parallel", "3", "--cloud"]

    assert build_parser("run").parse_args(argv) == build_parser().parse_args(argv)
