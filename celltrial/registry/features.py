"""Structured facts read from a trial's own text: target antigens, diseases, product, cell platform.

The vocabularies are curated data files (``data/antigens.yaml``, ``data/diseases.yaml``); no
third-party classification label is read. Where a fact is looked for:

- target antigens: the title and the interventions (names and descriptions) first; the brief
  summary only when those name none (a summary often mentions earlier therapies);
- diseases: the conditions and the title first, the summary only when those name none;
- disease setting (relapsed/refractory, newly diagnosed, consolidation or MRD): the title and
  conditions first, the summary only when those name none;
- product type (autologous / allogeneic / in vivo) and cell platform (CAR-T, CAR-NK, ...):
  title, interventions and summary, with transplant wording ("allogeneic stem cell
  transplantation") removed first, because it describes the patient's history, not the product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from celltrial.registry.record import TrialRecord

ProductType = str  # "autologous" | "allogeneic" | "in vivo"


@dataclass(frozen=True)
class TrialFeatures:
    """What a trial's text says about its target, disease and product."""

    antigens: tuple[str, ...]
    diseases: tuple[str, ...]
    disease_families: tuple[str, ...]
    product_type: ProductType | None
    platform: str | None
    settings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "settings": list(self.settings),
            "antigens": list(self.antigens),
            "diseases": list(self.diseases),
            "disease_families": list(self.disease_families),
            "product_type": self.product_type,
            "platform": self.platform,
        }


@dataclass(frozen=True)
class _Term:
    name: str
    family: str | None
    pattern: re.Pattern[str]
    needs_context: bool = False
    parents: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()


class _Vocabulary:
    """Terms with a quick test first: a term is looked for only when one of its literal
    beginnings (lower case) occurs in the text."""

    def __init__(self, terms: tuple[_Term, ...], starts: list[tuple[str, ...] | None] | None = None) -> None:
        self.terms = terms
        self.starts = starts or [_term_starts(term.alternatives) for term in terms]

    def find(self, text: str) -> list[_Term]:
        lowered = text.lower()
        return [
            term
            for term, starts in zip(self.terms, self.starts, strict=True)
            if (starts is None or any(start in lowered for start in starts)) and term.pattern.search(text)
        ]


_OPTIONAL_SEPARATOR = "[- ]?"
_SEPARATOR = "[- ]"


def _literal_starts(pattern: str) -> set[str] | None:
    """The lower-case literal beginnings of a pattern (``CD[- ]?19`` -> cd19, cd-19, cd 19), or
    None when it begins with something else than letters, digits and separators."""
    starts = {""}
    position = 0
    while position < len(pattern):
        rest = pattern[position:]
        if rest.startswith(_OPTIONAL_SEPARATOR):
            starts = {s + sep for s in starts for sep in ("", "-", " ")}
            position += len(_OPTIONAL_SEPARATOR)
            continue
        if rest.startswith(_SEPARATOR):
            starts = {s + sep for s in starts for sep in ("-", " ")}
            position += len(_SEPARATOR)
            continue
        char = pattern[position]
        if not (char.isalnum() or char == " ") or (
            position + 1 < len(pattern) and pattern[position + 1] in "?*{"
        ):
            break
        starts = {s + char.lower() for s in starts}
        position += 1
    if min(len(s) for s in starts) < 2:
        return None
    return starts


def _term_starts(alternatives: tuple[str, ...]) -> tuple[str, ...] | None:
    found: set[str] = set()
    for alternative in alternatives:
        body = re.sub(r"^\(\?<!\[A-Za-z0-9\]\)(?:\(\?i:)?", "", alternative)
        starts = _literal_starts(body)
        if starts is None:
            return None
        found |= starts
    return tuple(sorted(found))


def _case_sensitive(pattern: str) -> bool:
    """Acronym patterns (no lower-case letter outside escapes) match case-sensitively."""
    return not re.search(r"[a-z]", re.sub(r"\\.|\(\?[:<!=]+", "", pattern))


def _alternatives(patterns: list[str], *, case_sensitive: bool | None = None) -> tuple[str, ...]:
    """Each pattern as a whole-token regex with its own case rule."""
    parts = []
    for pattern in patterns:
        sensitive = _case_sensitive(pattern) if case_sensitive is None else case_sensitive
        tail = r"(?![0-9])" if re.search(r"[0-9]\)?\??$", pattern) else r"(?![A-Za-z0-9])"
        flags = "" if sensitive else "(?i:"
        body = f"{flags}{pattern}{')' if flags else ''}"
        parts.append(rf"(?<![A-Za-z0-9]){body}{tail}")
    return tuple(parts)


def _term(name: str, family: str | None, patterns: list[str], **options: Any) -> _Term:
    alternatives = _alternatives(patterns, case_sensitive=options.pop("case_sensitive", None))
    return _Term(
        name=name,
        family=family,
        pattern=re.compile("|".join(alternatives)),
        alternatives=alternatives,
        **options,
    )


@lru_cache(maxsize=1)
def _antigens() -> _Vocabulary:
    data = yaml.safe_load(
        (resources.files("celltrial.registry") / "data" / "antigens.yaml").read_text("utf-8")
    )
    terms: list[_Term] = []
    starts: list[tuple[str, ...] | None] = []
    for entry in data["antigens"]:
        options = {"needs_context": bool(entry.get("needs_context", False))}
        term = _term(
            entry["name"], None, entry["patterns"], case_sensitive=entry.get("case_sensitive"), **options
        )
        terms.append(term)
        starts.append(_term_starts(term.alternatives))
        products = entry.get("products", [])
        if products:
            # product names are literal: the quick test is the whole name
            terms.append(_term(entry["name"], None, [re.escape(p) for p in products], case_sensitive=False))
            starts.append(tuple(p.lower() for p in products))
    return _Vocabulary(tuple(terms), starts)


@lru_cache(maxsize=1)
def _diseases() -> _Vocabulary:
    data = yaml.safe_load(
        (resources.files("celltrial.registry") / "data" / "diseases.yaml").read_text("utf-8")
    )
    return _Vocabulary(
        tuple(
            _term(entry["name"], entry["family"], entry["patterns"], parents=tuple(entry.get("parents", [])))
            for entry in data["diseases"]
        )
    )


def disease_ancestors(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The named diseases with every broader entity they belong to (T-ALL: T-cell leukaemia, ALL, ...)."""
    parents = {term.name: term.parents for term in _diseases().terms}
    result: dict[str, None] = {}
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name not in result:
            result[name] = None
            pending.extend(parents.get(name, ()))
    return tuple(result)


@lru_cache(maxsize=1)
def _glossary() -> tuple[dict[str, str], re.Pattern[str]]:
    text = (resources.files("celltrial.registry") / "data" / "abbreviations.yaml").read_text("utf-8")
    glossary: dict[str, str] = yaml.safe_load(text)["abbreviations"]
    keys = sorted(glossary, key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(k) for k in keys) + r")(?![A-Za-z0-9])")
    return glossary, pattern


def expand_abbreviations(text: str) -> str:
    """``r/r T-ALL`` -> ``r/r (relapsed/refractory) T-ALL (T-cell acute lymphoblastic leukemia)``.

    Each abbreviation is expanded where it first appears only, so the text stays short.
    """
    glossary, pattern = _glossary()
    seen: set[str] = set()

    def expand(match: re.Match[str]) -> str:
        if match[1] in seen:
            return match[1]
        seen.add(match[1])
        return f"{match[1]} ({glossary[match[1]]})"

    return pattern.sub(expand, text)


def embedding_text(record: TrialRecord) -> str:
    """What the sentence model reads of a trial: title, conditions, interventions, summary."""
    parts = [
        record.brief_title.rstrip(". "),
        "Conditions: " + "; ".join(record.conditions) if record.conditions else "",
        "Interventions: " + "; ".join(record.intervention_names) if record.interventions else "",
        record.brief_summary or "",
    ]
    return expand_abbreviations(". ".join(p for p in parts if p))


_RANGE = re.compile(r"\bCD[- ]?(\d{1,3})\s?(?:/|&|\+|x|and|-)\s?(\d{1,3})\b(?![./]\d)")
_CONTEXT = r"(?:anti[- ]?{0}|{0}[- ]?(?:CAR|targeted|targeting|directed|specific|redirected))"
_TRANSPLANT = re.compile(
    r"\b(?:allogen(?:e)?ic|autologous)\s+(?:\w+\s+){0,3}?"
    r"(?:transplant\w*|HSCT|SCT|HCT|BMT|graft\w*|donor lymphocyte)",
    re.IGNORECASE,
)
_IN_VIVO = re.compile(
    r"\bin[- ]vivo\b|mRNA[- ]LNP|lipid nanoparticle|lentiviral vector (?:injection|infusion)", re.I
)
_ALLOGENEIC = re.compile(
    r"\ballogen(?:e)?ic\b|\boff[- ]the[- ]shelf\b|\buniversal\b|\bUCART|\bU?CAR-?T?\s?universal"
    r"|\bhealthy[- ]donor|\bdonor[- ]derived|\bthird[- ]party donor|\bgene[- ]edited allo",
    re.I,
)
_AUTOLOGOUS = re.compile(r"\bautologous\b|autoleucel\b|\bpatient[- ]derived\b|\bpatients?'? own\b", re.I)
_SETTINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "relapsed/refractory",
        re.compile(r"\b(?:r/r|rr)\b|relaps\w*|refractory|recurren\w*|progressive disease|resistant", re.I),
    ),
    (
        "newly diagnosed",
        re.compile(
            r"newly[- ]diagnosed|first[- ]line|front[- ]?line|treatment[- ]na[iï]ve|previously untreated",
            re.I,
        ),
    ),
    (
        "consolidation or MRD",
        re.compile(
            r"\bMRD\b|minimal residual disease|measurable residual disease|consolidat\w+|maintenance", re.I
        ),
    ),
)
_PLATFORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("CAAR-T", re.compile(r"\bCAAR[- ]?T", re.I)),
    ("CAR-Treg", re.compile(r"\bCAR[- ]?Tregs?\b", re.I)),
    ("CAR-NKT", re.compile(r"\bCAR[- ]?NKT\b|\bNKT[- ]cells?\b", re.I)),
    (
        "CAR-NK",
        re.compile(
            r"\bCAR[- ]?NK\b|\bNK[- ]?(?:92|cells?)\b.*\bCAR\b|\bCAR\b.*\bNK[- ]cells?\b|natural killer", re.I
        ),
    ),
    ("CAR-γδ T", re.compile(r"γδ|gamma[- ]?delta|\bgd[- ]?T\b", re.I)),
    ("CAR-macrophage", re.compile(r"\bCAR[- ]?M\b|macrophage", re.I)),
    ("TCR-T", re.compile(r"\bTCR[- ]?T\b|T[- ]cell receptor[- ](?:engineered|transduced|T)", re.I)),
    ("CAR-T", re.compile(r"\bCAR[- ]?T|\bCART|chimeric antigen receptor|\bCAR\b", re.I)),
)


def _expand_ranges(text: str) -> str:
    """``CD19/22`` names two antigens: write it ``CD19/CD22`` before matching."""
    return _RANGE.sub(lambda m: f"CD{m[1]}/CD{m[2]}", text)


def find_antigens(text: str, *, strict: bool = False) -> list[str]:
    """The antigens named in ``text`` (``strict``: ambiguous markers only in a targeting phrase)."""
    text = _expand_ranges(text)
    found = []
    for term in _antigens().find(text):
        if term.needs_context and strict:
            core = term.pattern.pattern
            if not re.search(_CONTEXT.format(f"(?:{core})"), text, re.I):
                continue
        found.append(term.name)
    return list(dict.fromkeys(found))


def find_diseases(text: str) -> list[_Term]:
    """The most specific disease terms named in ``text`` (``ALL`` is dropped when ``T-ALL`` is named)."""
    found = _diseases().find(text)
    broader = {parent for term in found for parent in disease_ancestors(term.parents)}
    return [term for term in found if term.name not in broader]


def _product_type(text: str) -> str | None:
    text = _TRANSPLANT.sub(" ", text)
    if _IN_VIVO.search(text):
        return "in vivo"
    allogeneic = bool(_ALLOGENEIC.search(text))
    autologous = bool(_AUTOLOGOUS.search(text))
    if allogeneic and not autologous:
        return "allogeneic"
    if autologous and not allogeneic:
        return "autologous"
    return None


def _settings(text: str) -> list[str]:
    return [name for name, pattern in _SETTINGS if pattern.search(text)]


def _platform(text: str) -> str | None:
    return next((name for name, pattern in _PLATFORMS if pattern.search(text)), None)


def extract_features(record: TrialRecord) -> TrialFeatures:
    """The structured facts of one trial, from its title, conditions, interventions and summary."""
    title = " ".join(filter(None, [record.brief_title, record.official_title, record.acronym]))
    interventions = " ".join(
        " ".join(filter(None, [i.name, i.description, *i.other_names])) for i in record.interventions
    )
    summary = record.brief_summary or ""
    conditions = " ; ".join(record.conditions)

    antigens = find_antigens(f"{title} ; {interventions}", strict=True) or find_antigens(summary, strict=True)
    diseases = find_diseases(f"{conditions} ; {title}") or find_diseases(summary)
    product_type = (
        _product_type(f"{title} ; {interventions}")
        or _product_type(summary)
        or _product_type(record.detailed_description or "")
    )
    platform = _platform(f"{title} ; {interventions}") or _platform(summary)
    settings = _settings(f"{title} ; {conditions}") or _settings(summary)
    return TrialFeatures(
        antigens=tuple(antigens),
        diseases=tuple(dict.fromkeys(t.name for t in diseases)),
        disease_families=tuple(dict.fromkeys(t.family for t in diseases if t.family)),
        product_type=product_type,
        platform=platform,
        settings=tuple(settings),
    )
