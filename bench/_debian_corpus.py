"""A realistic labelled corpus for the cluster bench and screenshots: Debian package descriptions by section.

600 one-line descriptions, 60 from each of 10 sections (fonts, hamradio, sound, video, games, mail, database,
electronics, editors, math), read from this machine's apt lists (`apt-cache dumpavail`): short texts in known
topics, some of which overlap (sound and video; electronics and hamradio), as the issue's test corpus was.
Libraries, -dev, -doc, -dbg, -data and -common packages are left out (their descriptions repeat their program's).
Returns None where apt-cache is missing (not a Debian machine).
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess

SECTIONS = ("fonts", "hamradio", "sound", "video", "games", "mail", "database", "electronics", "editors", "math")
PER_SECTION = 60


def debian_descriptions(per_section: int = PER_SECTION, seed: int = 0) -> tuple[list[str], list[str]] | None:
    """(texts, sections), or None without apt-cache."""
    if shutil.which("apt-cache") is None:
        return None
    dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=False).stdout
    by_section: dict[str, dict[str, str]] = {s: {} for s in SECTIONS}
    for stanza in dump.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", stanza, flags=re.MULTILINE))
        section = fields.get("Section", "").split("/")[-1]
        package, description = fields.get("Package", ""), fields.get("Description", "")
        if section not in by_section or not description or package.startswith("lib"):
            continue
        if re.search(r"-(dev|doc|dbg|data|common)$", package):
            continue
        by_section[section].setdefault(description, package)
    if any(len(d) < per_section for d in by_section.values()):
        return None
    rng = random.Random(seed)
    texts, sections = [], []
    for section in SECTIONS:
        chosen = sorted(by_section[section])
        rng.shuffle(chosen)
        texts += chosen[:per_section]
        sections += [section] * per_section
    return texts, sections
