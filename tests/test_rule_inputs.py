"""Every rule with a script lists that script's whole library closure as inputs (lib_of)."""

from __future__ import annotations

import re

RULE = re.compile(r"^(?:rule|checkpoint) (\w+):\n((?:[ \t]+.*\n|\n)*)", re.MULTILINE)
SCRIPT = re.compile(r'script:\s*\n\s*"\.\./\.\./scripts/([\w/]+\.py)"')
LIB_OF = re.compile(r'lib=lib_of\("([\w/]+\.py)"\)')


def rule_blocks(repo):
    blocks = {}
    for path in [repo / "Snakefile", *sorted((repo / "workflow/rules").glob("*.smk"))]:
        for name, body in RULE.findall(path.read_text()):
            blocks[name] = (path.name, body)
    return blocks


def test_every_script_rule_depends_on_its_library_closure(repo):
    blocks = rule_blocks(repo)
    scripted = {name: block for name, block in blocks.items() if SCRIPT.search(block[1])}
    assert len(scripted) >= 25  # every analysis rule runs a script
    wrong = {}
    for name, (file, body) in scripted.items():
        script = SCRIPT.search(body).group(1)
        libs = LIB_OF.findall(body)
        if libs != [script]:
            wrong[name] = (file, script, libs)
    assert not wrong, f"rules whose lib input is not lib_of(<their script>): {wrong}"
    assert "lib=lib(" not in "".join(body for _, body in blocks.values())
