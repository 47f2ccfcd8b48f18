"""What every HTML page of pathsec shares: templates, inline CSS and script, the CSP hash.

Server text reaches a page only through Jinja2 autoescaping or the JSON data block (see
:func:`pathsec.report.plan_view.script_json`); the script only moves nodes and sets
``textContent``/attributes. A Content-Security-Policy allows the page's one script (by
hash) and nothing else, so even a missed escape could not run code or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

import jinja2

from pathsec import __version__
from pathsec.audit.models import Text
from pathsec.report.i18n import LABELS, SCRIPT_LABELS
from pathsec.report.vocab import term


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (autoescaping on)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pathsec.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@lru_cache(maxsize=1)
def assets() -> tuple[str, str, str]:
    """The inline CSS, the one inline script and the script's CSP hash."""
    e = env()
    script = e.get_template("report.js.j2").render() + e.get_template("plan.js.j2").render()
    css = e.get_template("report.css.j2").render()
    return css, script, _script_hash(script)


def script_labels() -> dict[str, list[str]]:
    """The labels the script uses, ``{key: [en, zh]}``."""
    return {k: [t.en, t.zh] for k, t in SCRIPT_LABELS.items()}


def enc_word(by_default: bool | str) -> Text:
    """Whether a path is encrypted by default, in both languages."""
    if by_default == "conditional":
        return Text(en="conditional", zh="有条件")
    return LABELS["yes"] if by_default else LABELS["no"]


def render_page(template: str, **context: Any) -> str:
    """Render ``template`` with the shared assets, labels and version in its context."""
    css, script, script_hash = assets()
    return (
        env()
        .get_template(template)
        .render(
            css=css,
            script=script,
            script_hash=script_hash,
            version=__version__,
            labels=LABELS,
            term=term,
            enc_word=enc_word,
            **context,
        )
    )
