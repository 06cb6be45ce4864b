"""Writes shared/src/places.txt: countries and languages with their ISO codes and English
names, from Debian's iso-codes package (/usr/share/iso-codes/json), for the offline engine's
matching (shared/src/places.rs): a question about "the German version" meets data saying
"EN>DE", "the US" meets "USA".

Each line: `kind<TAB>id<TAB>codes<TAB>names`, kind `c` (country) or `l` (language), codes
space-separated as written in data (countries upper case, languages lower case), names
`|`-separated in lower case. Only languages with a two-letter code are kept.

Usage: python3 scripts/places.py   (run from the repository root; written from iso-codes 4.15.0)
"""
import json
from pathlib import Path

ISO = Path("/usr/share/iso-codes/json")
OUT = Path("shared/src/places.txt")
# Names people use that ISO does not list.
COUNTRY_ALIASES = {
    "GB": ["uk", "britain", "great britain", "england", "scotland", "wales"],
    "US": ["america", "united states of america", "the states"],
    "NL": ["holland"],
    "CZ": ["czech republic"],
    "KR": ["south korea"],
    "RU": ["russia"],
    "IR": ["iran"],
    "VN": ["vietnam"],
    "TW": ["taiwan"],
    "BO": ["bolivia"],
    "VE": ["venezuela"],
    "TZ": ["tanzania"],
    "SY": ["syria"],
    "LA": ["laos"],
    "MD": ["moldova"],
    "BN": ["brunei"],
    "FM": ["micronesia"],
    "VA": ["vatican"],
    "CI": ["ivory coast"],
}
# Names that are more often ordinary words ("nail polish", "a turkey sandwich").
NOT_NAMES = {"polish", "jersey", "georgia", "guinea", "chad", "jordan", "turkey", "niger"}
# Codes people write that ISO does not: the United Kingdom is "UK" more often than "GB".
COUNTRY_CODE_ALIASES = {"GB": ["UK"]}


def names(*values):
    out = []
    for v in values:
        for part in (v or "").split(";"):
            part = part.strip().lower()
            if part and part not in out and part not in NOT_NAMES:
                out.append(part)
    return out


def main():
    lines = []
    for c in json.loads((ISO / "iso_3166-1.json").read_text())["3166-1"]:
        code = c["alpha_2"]
        codes = [code, c["alpha_3"]] + COUNTRY_CODE_ALIASES.get(code, [])
        ns = names(c["name"], c.get("common_name")) + COUNTRY_ALIASES.get(code, [])
        ns = [n for n in ns if "," not in n and "(" not in n]
        lines.append(f"c\t{code.lower()}\t{' '.join(codes)}\t{'|'.join(ns)}")
    for l in json.loads((ISO / "iso_639-2.json").read_text())["639-2"]:
        if "alpha_2" not in l:
            continue
        codes = [l["alpha_2"], l["alpha_3"]] + ([l["bibliographic"]] if "bibliographic" in l else [])
        ns = [n for n in names(l["name"]) if "," not in n and "(" not in n]
        lines.append(f"l\t{l['alpha_2']}\t{' '.join(codes)}\t{'|'.join(ns)}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} places, {OUT.stat().st_size} bytes -> {OUT}")


if __name__ == "__main__":
    main()
