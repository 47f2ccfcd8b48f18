"""Observations as flat facts: the history writer's memo gives the same facts, cheaper."""

from __future__ import annotations

from pathsec.audit.models import AuditResult
from pathsec.report.facts import FactsMemo, flatten, observation_facts
from report.sample import sample_result


def _hosts(n: int) -> AuditResult:
    """The sample's endpoints on ``n`` hosts: copies share their observation instances,
    as a live run's equal observations do."""
    base = sample_result()
    eps = [e.model_copy(update={"host": f"h{i}.test"}) for i in range(n) for e in base.endpoints]
    return base.model_copy(update={"endpoints": tuple(eps)})


def test_memo_gives_the_facts_of_the_whole_dump_in_the_same_order() -> None:
    result = _hosts(20)
    memo: FactsMemo = {}
    for ep in result.endpoints:
        whole = flatten(ep.observations.model_dump(mode="json"))
        with_memo = observation_facts(ep.observations, memo)
        assert with_memo == whole == observation_facts(ep.observations)
        assert list(with_memo) == list(whole)


def test_a_shared_observation_is_flattened_once() -> None:
    result = _hosts(20)
    memo: FactsMemo = {}
    for ep in result.endpoints:
        observation_facts(ep.observations, memo)
    present = [o for ep in result.endpoints for _, o in ep.observations.items()]
    shared = [o for o in present if getattr(type(o), "interned", False)]
    assert shared, "the sample has TLS and cipher observations"
    assert len(memo) == len({id(o) for o in shared})  # the others are not kept
    assert len(memo) * 20 == len(shared)  # each sample endpoint's, once


def test_an_equal_but_distinct_observation_gets_its_own_facts() -> None:
    result = _hosts(1)
    ep = result.endpoints[0]
    memo: FactsMemo = {}
    first = observation_facts(ep.observations, memo)
    copied = ep.observations.model_copy(deep=True)  # equal values, new instances
    assert observation_facts(copied, memo) == first
    shared = [o for _, o in ep.observations.items() if getattr(type(o), "interned", False)]
    assert shared and len(memo) == 2 * len(shared)
