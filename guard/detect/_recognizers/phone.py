"""PHONE_NUMBER: Presidio's phone recognizer, minus the work that can never find a number,
plus scores that read how a number is written.

Presidio runs python-phonenumbers' `PhoneNumberMatcher` once per region (eight by
default), and each run parses every digit group of the text: `3`, `12`, `2024`. A
candidate with fewer digits than the shortest valid number of any region cannot be
valid, so the matcher here skips it before parsing, as it skips a candidate whose
digits, read from the matcher's region, have no length its country's numbers have
(`cannot_be_valid`); a candidate written with `+` reads alike from every region, so
one region's matcher checks it for all (`NumberMemo`). The matches found (regions,
leniency, spans) are Presidio's own code path, and tests compare the two.

Presidio scores every match 0.4 and relies on an English context word ("phone",
"call") to lift it over a 0.5 threshold, so `reach me at +1 416 555 0199`, `WhatsApp
+91 98765 43210` or `Appelez-moi au 06 12 34 56 78` were never reported. Here a match
that phonenumbers finds valid scores

- `INTERNATIONAL_SCORE` when written in international form: with a leading `+`
  (`(+44) 20 7946 0958` too), or grouped after the dialling prefix of the region it was
  found from (`0044 20 7946 0958`, `011 44 20 7946 0958`), unless an identifier word
  stands before it (see below);
- `GROUPED_SCORE` when its digit groups are those of the country's national format
  (`416-555-0199`, `(416) 555-0199`, `1-800-555-0199`, `07911 123456`,
  `06 12 34 56 78`, `(11) 91234-5678`), or in a grouping that is usual there though
  phonenumbers formats it otherwise (`SHORT_NETWORK_CODES`: `0151 23456789`, which
  phonenumbers groups `01512 3456789`), or written with its country code as the
  international format writes it, less the `+` (`91 98765 43210`, `44 20 7946 0958`:
  digits grouped otherwise, `9198-7654-3210`, are a code), unless a word such as
  "order" or "invoice" stands just before it or it is written like an IPv4 address;
- Presidio's 0.4 otherwise: a bare run of digits (`4165550199`, an order number) still
  needs a context word.

A match that reads as money (`$2,500,000.00`, `1.234.567,89 EUR`) is dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
import phonenumbers.phonenumberutil as util
from phonenumbers import CountryCodeSource, Leniency, PhoneMetadata
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from guard.detect._recognizers._money import is_money

_DESCS = (
    "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail", "no_international_dialling",
)  # fmt: skip


@functools.cache
def min_valid_digits() -> int:
    """The fewest national digits of any valid number, over every region phonenumbers knows."""
    metas = [PhoneMetadata.metadata_for_region(r) for r in phonenumbers.SUPPORTED_REGIONS]
    metas += [
        PhoneMetadata.metadata_for_nongeo_region(c)
        for c in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    ]
    lengths = [n for meta in metas if meta is not None for n in _lengths(meta)]
    return max(1, min(lengths, default=1))


@functools.cache
def has_digit_cluster() -> Callable[[str], bool]:
    """A pre-filter: True when the text has a digit cluster long enough to be a number.

    The matcher's candidates are digit blocks joined by at most four characters of
    phonenumbers' own punctuation class, so digits farther apart never form one number.
    """
    minimum = min_valid_digits()
    punctuation = getattr(util, "_VALID_PUNCTUATION", None)
    if not isinstance(punctuation, str):
        return lambda text: count_digits(text) >= minimum
    cluster = re.compile(rf"\d(?:[{punctuation}]{{0,4}}\d)*")

    def check(text: str) -> bool:
        return any(count_digits(m.group(0)) >= minimum for m in cluster.finditer(text))

    return check


def _lengths(meta: Any) -> list[int]:
    return [
        n
        for name in _DESCS
        if (desc := getattr(meta, name, None)) is not None
        for n in (desc.possible_length or ())
        if n > 0
    ]


def _min_width(pattern: str | None) -> int:
    """The fewest characters a regex can match (0 when it cannot be analysed)."""
    if not pattern:
        return 0
    try:
        import re._parser as sre_parse

        return int(sre_parse.parse(pattern).getwidth()[0])
    except (ImportError, re.error, AttributeError, TypeError):
        return 0


@functools.cache
def region_floor(region: str) -> int:
    """The fewest digits a number written without `+` can have and be valid from `region`.

    Parsed as national, the national number only loses digits (national prefix, carrier
    code, a leading country code) and must be valid for a region sharing `region`'s
    country code. Parsed after the region's international dialling prefix, it holds that
    prefix, a country code and a valid national number. A region whose transform rule
    could add digits to the national number gets the global floor.
    """
    floor = min_valid_digits()
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or not _only_drops_digits(meta.national_prefix_transform_rule):
        return floor
    siblings = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code or 0, (region,))
    national = min(
        (n for r in siblings for n in _lengths(PhoneMetadata.metadata_for_region(r))),
        default=floor,
    )
    international = _min_width(meta.international_prefix) + 1 + floor
    return max(floor, min(national, international))


def _only_drops_digits(rule: str | None) -> bool:
    """True when a transform rule only re-emits captured groups, each at most once."""
    if not rule:
        return True
    refs = re.findall(r"\\(\d)|\$(\d)", rule)
    rebuilt = "".join(f"\\{a}" if a else f"${b}" for a, b in refs)
    groups = [a or b for a, b in refs]
    return rebuilt == rule and len(groups) == len(set(groups))


def national_digits(raw: str) -> str | None:
    """The digits `phonenumbers.parse` reads from `raw` before it looks at a region: past
    the text before the number, without an extension, letters of a vanity number as
    digits. None when this phonenumbers has no such steps, or `raw` is no number."""
    try:
        number = util._build_national_number_for_parsing(raw)
        return str(util._normalize(util._maybe_strip_extension(number)[1]))
    except (AttributeError, TypeError, phonenumbers.NumberParseException):
        return None


@functools.cache
def _national_reading(region: str) -> tuple[Any, Any, dict[int, re.Pattern[str]]] | None:
    """How `parse` reads a number without `+` from `region` (see `cannot_be_valid`): the
    region's metadata, its country's main region's, and for each length of significant
    digits the general descriptions of the country's regions allow, their patterns as
    one. None when a transform rule or a description of any length leaves it open."""
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.country_code is None:
        return None
    main_region = phonenumbers.region_code_for_country_code(meta.country_code)
    main = meta if main_region == region else PhoneMetadata.metadata_for_region(main_region)
    if main is None or meta.national_prefix_transform_rule or main.national_prefix_transform_rule:
        return None
    by_length: dict[int, list[str]] = {}
    for other in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ()):
        desc = getattr(PhoneMetadata.metadata_for_region(other), "general_desc", None)
        if desc is None or not desc.possible_length:
            return None
        # `_is_number_matching_desc`: a length the description lists, and its pattern
        # matching in full (an empty pattern matches nothing).
        for n in desc.possible_length if desc.national_number_pattern else ():
            by_length.setdefault(n, []).append(desc.national_number_pattern)
    try:
        patterns = {n: re.compile("|".join(f"(?:{p})" for p in ps)) for n, ps in by_length.items()}
    except re.error:
        return None
    return meta, main, patterns


def cannot_be_valid(national: str, region: str) -> bool:
    """True when a number without `+` whose digits are `national` (`national_digits`),
    parsed from `region`, cannot be a valid number.

    `parse` reads such a number as international only when `national` starts with the
    region's dialling prefix (then it is left to `parse`). Otherwise the number has the
    region's country code, and its significant digits are `national`, less a national
    prefix the region's metadata reads at its start or not; or, when `national` starts
    with the country code, `national` less that code, less a national prefix or not,
    less one again or not (the second read with the country's main region's metadata).
    `is_valid_number` holds the significant digits to the general description (lengths
    and pattern) of one of the country's regions, so when no reading matches one, the
    number is not valid.
    """
    reading = _national_reading(region)
    if reading is None:
        return False
    meta, main, patterns = reading
    if meta.international_prefix and re.match(meta.international_prefix, national):
        return False
    readings = _prefix_stripped(national, meta)
    code = str(meta.country_code)
    if national.startswith(code):
        for rest in _prefix_stripped(national[len(code) :], meta):
            readings |= _prefix_stripped(rest, main)
    return not any(
        (pattern := patterns.get(len(r))) is not None and pattern.fullmatch(r) for r in readings
    )


def _prefix_stripped(number: str, meta: Any) -> set[str]:
    """`number`, and `number` less the national prefix `meta` reads at its start, if any:
    phonenumbers strips it or not (without a transform rule, nothing else)."""
    pattern = meta.national_prefix_for_parsing
    found = re.match(pattern, number) if pattern else None
    return {number, number[found.end() :]} if found else {number}


PLUS_SIGNS = frozenset("+\uff0b")


def has_plus(text: str) -> bool:
    """True when `text` holds a plus sign phonenumbers reads as one (`+`, fullwidth `＋`)."""
    return "+" in text or "\uff0b" in text


def count_digits(text: str) -> int:
    """The decimal digits of `text`, of any script (what phonenumbers reads as digits)."""
    return sum(map(str.isdecimal, text))


class NumberMemo:
    """What one scan learns about the strings it parses, so no region parses them again.

    `international(raw)` is `raw` parsed without a region. That succeeds exactly when,
    past the characters before the number, `raw` starts with `+` and a known country
    code; `phonenumbers.parse(raw, region)` then reads the country code after the `+`
    (the region would only say which dialling prefix to strip, and is never consulted)
    and returns the same number from every region, with `FROM_NUMBER_WITH_PLUS_SIGN` as
    its country code source. Whatever else `raw` holds, parsed from a region it either
    fails or gets its country code some other way. Without a `+` in `raw` the parse
    cannot succeed, so it is not tried.
    """

    def __init__(self) -> None:
        self._parsed: dict[str, Any] = {}
        self._national: dict[str, str | None] = {}
        # The matchers' verdicts on the international candidates: (candidate, offset) ->
        # the match found, or None.
        self.verified: dict[tuple[str, int], Any] = {}

    def international(self, raw: str) -> Any:
        """`raw` parsed without a region, or None when that fails."""
        if not has_plus(raw):
            return None
        if raw not in self._parsed:
            try:
                self._parsed[raw] = phonenumbers.parse(raw)
            except phonenumbers.NumberParseException:
                self._parsed[raw] = None
        return self._parsed[raw]

    def cannot_be_valid(self, raw: str, region: str) -> bool:
        """True when `raw` has no `+` and cannot be a valid number from `region`."""
        if has_plus(raw):
            return False
        if raw not in self._national:
            self._national[raw] = national_digits(raw)
        national = self._national[raw]
        return national is not None and cannot_be_valid(national, region)

    def region_of(self, raw: str, region: str) -> str:
        """Presidio's region of a match: its number's when it parses without a region."""
        number = self.international(raw)
        if number is None:
            return region
        return str(phonenumbers.region_code_for_number(number))


class _ShortcutMatcher(phonenumbers.PhoneNumberMatcher):
    """PhoneNumberMatcher that rejects without parsing a candidate too short to be valid,
    or that cannot be valid from its region, and checks an international candidate once
    for all the regions of a scan.

    Returning None is what the matcher does anyway after failing to parse a candidate too
    short and every inner candidate (all shorter still), or after parsing a candidate that
    is not valid, so the matches found, the order of the search and its give-up counter
    are unchanged. A candidate with a `+` may be any country's number, so it is held to
    the global floor, not the region's.
    """

    _guard_floor = 1
    _guard_memo: NumberMemo  # set by `_matcher`

    def _too_short(self, candidate: str) -> bool:
        digits = count_digits(candidate)
        if digits >= self._guard_floor:
            return False
        return digits < min_valid_digits() or not has_plus(candidate)

    def _extract_match(self, candidate: str, offset: int) -> Any:
        if self._too_short(candidate):
            return None
        return super()._extract_match(candidate, offset)

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        memo, region = self._guard_memo, str(self.preferred_region)
        if self._too_short(candidate) or memo.cannot_be_valid(candidate, region):
            return None
        if memo.international(candidate) is None:
            return super()._parse_and_verify(candidate, offset)
        # The region enters the check only through `parse(candidate, region)`, which
        # gives the same number from every region here (see `NumberMemo`); the rest reads
        # the text, the offset, the candidate and that number. So every region's matcher
        # comes to the same verdict, and the first one's stands for all.
        key = (candidate, offset)
        if key not in memo.verified:
            memo.verified[key] = super()._parse_and_verify(candidate, offset)
        return memo.verified[key]


def _matcher(text: str, region: str, leniency: int | None, memo: NumberMemo | None = None) -> Any:
    usable = hasattr(phonenumbers.PhoneNumberMatcher, "_extract_match") and hasattr(
        phonenumbers.PhoneNumberMatcher, "_parse_and_verify"
    )
    if not usable or leniency is None or leniency < Leniency.VALID:
        return phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency)  # type: ignore[arg-type]
    matcher = _ShortcutMatcher(text, region, leniency=leniency)
    matcher._guard_floor = region_floor(region)
    matcher._guard_memo = memo or NumberMemo()
    return matcher


INTERNATIONAL_SCORE = 0.7
GROUPED_SCORE = 0.6
_GROUP = re.compile(r"\d+")
# Words that make a grouped number an identifier rather than a number to call.
NOT_A_PHONE_WORDS = frozenset(
    {
        "order", "orders", "ord", "sku", "invoice", "inv", "ref", "reference", "tracking",
        "ticket", "case", "serial", "part", "item", "model", "po", "isbn", "iban", "acct",
        "account", "transaction", "txn", "booking", "confirmation", "receipt", "id",
        # the same in the languages of the default regions (DE, FR, BR), where numbers
        # are grouped like phone numbers too: `Kundennummer 0151 2345 6789`
        "kundennummer", "kundennr", "bestellnummer", "bestellung", "auftragsnummer",
        "auftrag", "rechnung", "rechnungsnummer", "rechnungsnr", "referenz",
        "sendungsnummer", "artikelnummer", "vorgangsnummer", "commande", "facture",
        "r\u00e9f\u00e9rence", "pedido", "factura", "fatura", "referencia",
        "refer\u00eancia",
    }
)  # fmt: skip
# Mobile network codes written shorter than phonenumbers groups them: German mobiles
# `0151 23456789` (DIN 5008: trunk prefix and the three-digit `15x` code, then the rest)
# are formatted `01512 3456789` by phonenumbers. (country code, national number's
# start): how many national digits the first group holds.
SHORT_NETWORK_CODES: dict[tuple[int, str], int] = {(49, "15"): 3}
_WORDS_BEFORE = re.compile(r"[^\W\d_]+")
_IN_CONTEXT = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
_SPACES_AND_DASHES = re.compile(r"[\d ()\-]+")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)")


# Presidio's context words, and the words a chat puts before a number to text:
# `txt me 2125550147`, `SMS 07911123456`, `mob 09876543210`. Not "text": a context word
# is matched within the words before a value (`context`, `texture`), and "text" is
# everywhere in prose (`text if that's easier. Whitelist the IP 146.47.26.164`).
CONTEXT = (*PhoneRecognizer.CONTEXT, "txt", "sms", "mob", "whatsapp")


class GuardPhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer with the short-candidate shortcut (same matches), scored
    by how each number is written, and without amounts of money (see the module doc)."""

    CONTEXT = list(CONTEXT)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        """Presidio's matches, each scored by its written form; money is left out.

        A match right after an identifier word (`order number 4165550199`) that its form
        does not lift is marked as read in context already: "number" there names the
        order's number, and no context word may lift it to a phone number. So is an IPv4
        address (`Call me later. Whitelist the IP 146.47.26.164`).
        """
        forms: dict[tuple[int, int], tuple[float, str]] = {}
        results = self.presidio_analyze(text, nlp_artifacts, forms)
        out = []
        for result in results:
            if is_money(text, result.start, result.end):
                continue
            score, form = forms.get((result.start, result.end), (0.0, ""))
            if score <= result.score and (
                _identifier_before(text, result.start)
                or _IPV4.fullmatch(text, result.start, result.end)
            ):
                result.recognition_metadata[_IN_CONTEXT] = True
            if score > result.score:
                result.score = score
                explanation = result.analysis_explanation
                if explanation is not None:
                    explanation.original_score = score
                    explanation.score = score
                    explanation.append_textual_explanation_line(f"written as {form}")
            out.append(result)
        return out

    def presidio_analyze(
        self,
        text: str,
        nlp_artifacts: Any = None,
        forms: dict[tuple[int, int], tuple[float, str]] | None = None,
    ) -> list[RecognizerResult]:
        """Presidio's loop over regions, each with a shortcut matcher: Presidio's results.

        `forms`, when given, receives the best written-form score of each span.
        """
        make: Any = self._get_recognizer_result
        memo = NumberMemo()
        # At VALID leniency and stricter the matcher keeps only valid numbers.
        valid = self.leniency is not None and self.leniency >= Leniency.VALID
        results = []
        for match, region in self._matches(text, memo):
            number_region = memo.region_of(text[match.start : match.end], region)
            results.append(make(match, text, number_region, nlp_artifacts))
            if forms is not None:
                key = (match.start, match.end)
                found = form_score(text, match, region, memo=memo, valid=valid)
                if found[0] > forms.get(key, (0.0, ""))[0]:
                    forms[key] = found
        return list(EntityRecognizer.remove_duplicates(results))

    def _matches(self, text: str, memo: NumberMemo) -> Iterator[tuple[Any, str]]:
        """Each match with the region whose matcher found it."""
        for region in self.supported_regions:
            for match in _matcher(text, region, self.leniency, memo):
                yield match, region


def form_score(
    text: str,
    match: Any,
    region: str = "ZZ",
    *,
    regrouped: bool = True,
    memo: NumberMemo | None = None,
    valid: bool = False,
) -> tuple[float, str]:
    """The score a match earns by how it is written, and the name of that form.

    `match` is its raw string parsed from `region`: the region says which dialling prefix
    (`00`, `011`) reads as "an international number follows". Subscriber digits grouped
    otherwise than the national format groups them (`030 1234 5678`) and a mobile number
    without its trunk prefix (`98765 43210`) count only when joined by spaces and dashes,
    and not with `regrouped` false (`030 123 4567` is no number of its own in
    `030 123 4567 8`). `valid` says the number is known to be valid already; `memo`
    holds what the scan parsed so far.
    """
    number = match.number
    raw = match.raw_string
    if not raw or not (valid or phonenumbers.is_valid_number(number)):
        return 0.0, ""
    memo = memo or NumberMemo()
    # Parsed from `region`, `raw` takes its country code after a `+` exactly when it
    # parses without a region (see `NumberMemo`).
    if raw[0] in PLUS_SIGNS or memo.international(raw) is not None:
        return INTERNATIONAL_SCORE, "an international number"
    if no_national_form(text, match.start, raw):
        return 0.0, ""
    written = _GROUP.findall(raw)
    groups = [len(g) for g in written]
    source = _country_code_source(raw, region)
    if source == CountryCodeSource.FROM_NUMBER_WITH_IDD:
        return INTERNATIONAL_SCORE, "an international number after its dialling prefix"
    usual = _GROUP.findall(_national(number))
    national = [len(g) for g in usual]
    if groups == national:
        return GROUPED_SCORE, "a national number, grouped as usual"
    prefix = _trunk_prefix(number.country_code)
    if prefix and written[0] == prefix and groups[1:] == national:
        return GROUPED_SCORE, "a national number with its trunk prefix, grouped as usual"
    short = _short_network_code_groups(number, prefix)
    if groups == short:
        return GROUPED_SCORE, "a mobile number, its network code grouped as usual"
    plain = _SPACES_AND_DASHES.fullmatch(raw) is not None
    if source == CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN and plain:
        if groups == [len(g) for g in _GROUP.findall(_international(number))]:
            return GROUPED_SCORE, "an international number without its plus, grouped as usual"
    if not regrouped or not prefix or not plain:
        return 0.0, ""  # `84881/22890`, `0141.4308.004`: codes more often than numbers
    if _subscriber_regrouped(written, usual[0], prefix, short):
        return GROUPED_SCORE, "a national number, its subscriber digits grouped in twos to fours"
    if usual[0].startswith(prefix) and not written[0].startswith(prefix):
        mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        if mobile and groups == [len(usual[0]) - len(prefix), *national[1:]]:
            return GROUPED_SCORE, "a mobile number without its trunk prefix, grouped as usual"
    return 0.0, ""


def no_national_form(text: str, start: int, raw: str) -> bool:
    """True when `raw`, at `start` in `text`, scores no national form whatever its number:
    a single digit group, a group after an identifier word, an IPv4 address."""
    return (
        len(_GROUP.findall(raw)) < 2
        or _identifier_before(text, start)
        or bool(_IPV4.fullmatch(raw))
    )


def _subscriber_regrouped(
    written: list[str], first: str, prefix: str, short: list[int] | None
) -> bool:
    """True when `written` starts with the national format's first group `first`, an area
    or network code after the trunk `prefix` (or the short one of `SHORT_NETWORK_CODES`),
    and splits the rest into two or more groups of two to four digits: `0151 2345 6789`,
    `07911 123 456`, `030 1234 5678`, but not `030 123 4567 8`, nor `12 34 56 78 90`
    (a Brazilian area code has no trunk prefix before it)."""
    if len(written) < 3 or not first.startswith(prefix):
        return False
    if not all(2 <= len(g) <= 4 for g in written[1:]):
        return False
    return written[0] == first or (short is not None and written[0] == first[: short[0]])


def _short_network_code_groups(number: Any, prefix: str) -> list[int] | None:
    """The groups `[trunk prefix + network code, rest]` of a mobile number whose network
    code is written shorter than phonenumbers groups it (`SHORT_NETWORK_CODES`)."""
    nsn = phonenumbers.national_significant_number(number)
    for (country_code, start), width in SHORT_NETWORK_CODES.items():
        if number.country_code == country_code and nsn.startswith(start) and prefix:
            if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
                return [len(prefix) + width, len(nsn) - width]
    return None


def _country_code_source(raw: str, region: str) -> int:
    """How `raw`, read from `region`, gives its country code (`CountryCodeSource`)."""
    try:
        parsed = phonenumbers.parse(raw, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return CountryCodeSource.UNSPECIFIED
    return int(parsed.country_code_source or CountryCodeSource.UNSPECIFIED)


def _national(number: Any) -> str:
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def _international(number: Any) -> str:
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


@functools.cache
def _trunk_prefix(country_code: int) -> str:
    region = phonenumbers.region_code_for_country_code(country_code)
    return str(phonenumbers.ndd_prefix_for_region(region, True) or "")


def _identifier_before(text: str, start: int) -> bool:
    """True when one of the two words before the match names an identifier (`Order`)."""
    words = _WORDS_BEFORE.findall(text[max(0, start - 40) : start])[-2:]
    return any(w.lower() in NOT_A_PHONE_WORDS for w in words)
