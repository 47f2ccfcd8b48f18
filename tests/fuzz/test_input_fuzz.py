"""Fuzzing what users type and write: only InputError (one line, exit 2) may come out.

Target strings, targets files, YAML text, and deployment files mutated line by line and
character by character, then planned: each either loads or raises
:class:`pathsec.errors.InputError` whose message names the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathsec.audit.targets import parse_target
from pathsec.errors import InputError
from pathsec.yamlfile import load_yaml_text

EXAMPLES = 300
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SMALL = (Path(__file__).resolve().parents[2] / "examples/small.yaml").read_text("utf-8")
SMALL_LINES = SMALL.splitlines()


def only_input_error(fn: Any, *args: Any) -> Any:
    """Call ``fn``; InputError (with a one-line message) is fine, anything else fails."""
    try:
        return fn(*args)
    except InputError as exc:
        assert "\n" not in str(exc)
        return None


target_text = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda h, p, proto: f"{h}{p}{proto}",
        st.one_of(
            st.sampled_from(["mail.example", "10.0.0.1", "[::1]", "[1:2:3]", "[", "", "a b"]),
            st.text(max_size=20),
        ),
        st.one_of(st.just(""), st.integers(-5, 10**7).map(lambda n: f":{n}"), st.text(max_size=6)),
        st.one_of(st.just(""), st.sampled_from(["/smtp", "/imaps", "/x", "/", "//sip"])),
    ),
)


@FUZZ
@given(target_text)
def test_target_strings(text: str) -> None:
    t = only_input_error(parse_target, text)
    if t is not None:
        assert 1 <= t.port <= 65535 and t.host


yamlish = st.text(
    alphabet=st.one_of(st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\t")), st.characters()),
    max_size=200,
)


@FUZZ
@given(yamlish)
def test_yaml_text(text: str) -> None:
    only_input_error(load_yaml_text, text, "f.yaml")


mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, len(SMALL_LINES) - 1), st.just("")),
    st.tuples(st.just("duplicate"), st.integers(0, len(SMALL_LINES) - 1), st.just("")),
    st.tuples(st.just("replace"), st.integers(0, len(SMALL_LINES) - 1), yamlish),
    st.tuples(
        st.just("indent"), st.integers(0, len(SMALL_LINES) - 1), st.sampled_from([" ", "  ", "\t"])
    ),
)


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_deployment_plans_or_is_an_input_error(muts: list[tuple[str, int, str]]) -> None:
    from pathsec.catalog import load_builtin
    from pathsec.plan import build_plan
    from pathsec.topology.loader import load_deployment_text

    lines = list(SMALL_LINES)
    for kind, i, text in muts:
        i %= max(len(lines), 1)
        if not lines:
            break
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "replace":
            lines[i] = text
        else:
            lines[i] = text + lines[i]
    dep = only_input_error(load_deployment_text, "\n".join(lines) + "\n", "d.yaml")
    if dep is not None:
        only_input_error(build_plan, load_builtin(), dep, "d.yaml")
