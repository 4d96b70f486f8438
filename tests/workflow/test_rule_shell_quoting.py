"""No value from the config or the samples table reaches a shell unquoted.

Every placeholder of every rule's ``shell:`` command carries ``:q`` (``{input.x:q}``,
``{params.x:q}``, ``{wildcards.x:q}``, ``{threads:q}``, ...): Snakemake then quotes the value,
and each item of a list separately, so a path, a sample name or a config string with spaces or
shell syntax stays one argument. Optional options are lists of arguments in ``params`` (empty:
nothing), never strings of several arguments. The shell prefix (common.smk) is not a rule's
command; ``{{``/``}}`` are escaped braces, not placeholders.
"""

from __future__ import annotations

import ast
import re
import string

import pytest

from conftest import REPO

SMK_FILES = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]

#: the shell: directive of a rule body and its continuation lines
SHELL = re.compile(r"^([ \t]+)shell:[ \t]*(.*)\n((?:\1[ \t]+\S.*\n|[ \t]*\n)*)", flags=re.M)


def shell_command(body: str) -> str | None:
    """The ``shell:`` string of a rule body (None without one); it must be a plain string
    literal (implicitly concatenated lines and comments allowed), not an f-string or an
    expression, whose placeholders could not be checked here."""
    m = SHELL.search(body)
    if m is None:
        return None
    source = m.group(2) + "\n" + m.group(3)
    node = ast.parse(f"(\n{source}\n)", mode="eval").body
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        raise ValueError(f"shell: is not a plain string literal: {source.strip()}")
    return node.value


def unquoted_placeholders(command: str) -> list[str]:
    """Placeholders of a Snakemake shell command that lack ``:q``."""
    return [f"{{{field}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
            for _, field, spec, conv in string.Formatter().parse(command)
            if field is not None and (spec != "q" or conv)]


def shell_rules() -> list[tuple[str, str, str | None, str]]:
    """(file, rule, shell command or None, body) of every rule and checkpoint."""
    from rule_bodies import rule_bodies

    return [(path.name, name, shell_command(body), body)
            for path, name, body in rule_bodies(SMK_FILES)]


def test_checker_finds_unquoted_placeholders() -> None:
    assert unquoted_placeholders(
        "seq2func x --a {input.a:q} --b {input.b} {params.c} --t {threads} > {log:q} 2>&1;"
        " f() {{ echo; }}; echo ${{HOME}} {wildcards.s!r:q} {output:u}"
    ) == ["{input.b}", "{params.c}", "{threads}", "{wildcards.s!r:q}", "{output:u}"]
    body = ('    shell:\n'
            '        # a comment between the lines\n'
            '        "seq2func y --in {input:q}"\n'
            '        " --out {output} > {log:q} 2>&1"  # and after one\n'
            '\n'
            '\n')
    assert shell_command(body) == "seq2func y --in {input:q} --out {output} > {log:q} 2>&1"
    with pytest.raises(ValueError, match="plain string literal"):
        shell_command('    shell:\n        f"seq2func z {OUT}"\n')


def test_every_shell_command_is_parsed() -> None:
    """Every `shell:` directive of the rule files belongs to a rule the parser found (a rule
    derived with `use rule ... with:` inherits its parent's)."""
    derived = {m for p in SMK_FILES
               for m in re.findall(r"^[ \t]*use rule \w+ as (\w+)", p.read_text(), flags=re.M)}
    rules = [r for r in shell_rules() if r[1] not in derived]
    directives = sum(len(re.findall(r"^[ \t]+shell:", p.read_text(), flags=re.M))
                     for p in SMK_FILES)
    assert directives == sum(cmd is not None for _, _, cmd, _ in rules) > 0
    # the checkpoint and the rules inside `if` blocks are among them
    names = {name for _, name, cmd, _ in rules if cmd is not None}
    assert {"preprocess_plan", "ingest_variants", "motif_recovery", "variant_metrics"} <= names


def test_no_rule_runs_python_code_that_could_build_commands() -> None:
    """Rules run a shell command or nothing (targets): no `run:` blocks, whose shell() calls
    this check would not see."""
    problems = [f"{file}: rule {name} has a run: block" for file, name, _, body in shell_rules()
                if re.search(r"^[ \t]+run:", body, flags=re.M)]
    assert not problems, "\n".join(problems)


def test_every_shell_placeholder_is_quoted() -> None:
    problems = []
    for file, name, command, _ in shell_rules():
        if command is None:
            continue
        for placeholder in unquoted_placeholders(command):
            problems.append(f"{file}: rule {name}: {placeholder} lacks :q")
    assert not problems, "\n".join(problems)
