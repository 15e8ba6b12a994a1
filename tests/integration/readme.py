"""Read runnable snippets out of README.md, so tests run exactly what users read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[2]


def code_block(section: str, lang: str, readme: Path = REPO / "README.md") -> str:
    """The first ```lang block after the heading ``section``."""
    text = readme.read_text()
    start = text.index(section)
    m = re.compile(r"```" + re.escape(lang) + r"\n(.*?)```", re.S).search(text, start)
    if m is None:
        raise LookupError(f"no ```{lang} block after {section!r} in {readme}")
    return m.group(1)


def lines_of(block: str) -> List[str]:
    return [line for line in block.splitlines() if line.strip()]
