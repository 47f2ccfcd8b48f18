"""The round trip: the lab on its real ports, ``pathsec discover`` over its /24, and the
draft compared with the lab's own deployment file (the truth).

Every server and its roles must come back exactly, with the Exchange release, the DC's
global catalog and DNS flags and UM's SIP mode; Windows wherever something on the wire
tells it (UM01 answers only SIP, so its Windows stays a TODO). The draft must validate
(exit 0, warnings only), nothing may be invented, and the silent addresses are listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from discover.netlab import can_run, lab_in_namespace
from pathsec.lab.profiles import load_profile

pytestmark = pytest.mark.root

#: Servers whose Windows release nothing on the wire tells (UM01: SIP only).
NO_WINDOWS_EVIDENCE = {"UM01"}


def _servers(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["servers"]}


@pytest.mark.parametrize("profile", ["default", "hardened", "misconfigured"])
def test_discover_recovers_every_lab_server_and_role(profile: str, tmp_path: Path) -> None:
    why = can_run()
    if why is not None:
        pytest.skip(why)
    out = tmp_path / "draft.yaml"
    with lab_in_namespace(profile, tmp_path) as lab:
        truth = yaml.safe_load((lab.state_dir / "deployment.yaml").read_text())
        proc = lab.run("discover", "127.0.10.0/24", "-o", str(out), "-q", "--timeout", "3")
        assert proc.returncode == 0, proc.stderr
        check = lab.run("validate", str(out), "-f", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["errors"] == 0

    draft = yaml.safe_load(out.read_text())
    want, got = _servers(truth), _servers(draft)
    assert set(got) == set(want)  # every server, none invented
    for name, t in want.items():
        g = got[name]
        assert g["addresses"] == t["addresses"], name
        assert set(g["roles"]) == set(t["roles"]), name
        assert g.get("exchange") == t.get("exchange"), name
        for key in ("global_catalog", "dns", "um_sip_mode"):
            if key in t:
                assert g[key] == t[key], (name, key)
        if name in NO_WINDOWS_EVIDENCE:
            assert "windows" not in g, name  # nothing said it: no guess, a TODO
        else:
            assert g["windows"] == t["windows"], name
    assert draft["organization"]["domain"] == truth["organization"]["domain"]

    evidence = json.loads((tmp_path / "draft.evidence.json").read_text())
    assert evidence["complete"] is True and evidence["addresses"] == 254
    for s in evidence["servers"]:
        for role in s["roles"]:
            assert role["certainty"] == "certain", (s["address"], role["role"])
            assert role["evidence"], (s["address"], role["role"])
    assert evidence["left_out"] == []
    silent = "127.0.10.1-127.0.10.9, 127.0.10.13-127.0.10.129, 127.0.10.131-127.0.10.254"
    assert f"left out, no port answered: {silent}" in proc.stderr
    text = out.read_text()
    assert "# hub_transport (certain):" in text and "[rpc.emsmdb]" in text
    expected = {s.name for s in load_profile(profile).servers}
    assert expected == set(got)
