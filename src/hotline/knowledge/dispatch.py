"""Dispatch suggestions (智能分派): learn from the history of handled tickets which
category and lead department a new appeal belongs to.

The model: the appeal's words (jieba, the same segmentation as search, synonyms
folded to one word) plus a district token, TF-IDF weighted (words and word pairs),
then two linear classifiers (SGD with logistic loss): one for the lead department,
one for the category. Ranked suggestions carry the classifier's probability as
their confidence.

Explicit routing rules (``RoutingRule``: category [+ district] → department) take
precedence: when the category (given, or the model's first guess) has an active
rule, the rule's department is suggested first with confidence 1.0.

Training (``train()``; ``hotline train-dispatch``; the periodic
``knowledge.tasks.train_dispatch_model`` job) reads the history in one short query,
fits with no database connection held, and writes the model file atomically
(temporary file + ``os.replace``) under ``DATA_DIR/models/``. Web processes check
the file's identity at most every ``RELOAD_CHECK_SECONDS`` and load a newer one
without a restart; a request never waits for training.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from hotline.knowledge.search import vocabulary
from hotline.lib.env import envint

logger = logging.getLogger("hotline.knowledge.dispatch")

#: Statuses whose lead department accepted the ticket (signed it and beyond): the labels.
TRAINING_STATUSES = ("signed", "handling", "replied", "reviewed", "called_back", "closed")
#: The newest this many tickets are used for training (bounded time and memory).
MAX_TRAINING_TICKETS = envint("HOTLINE_DISPATCH_MAX_TRAINING", 200_000, minimum=100)
#: Fewer labelled tickets than this: no model (suggestions come from rules only).
MIN_TRAINING_TICKETS = 30
RELOAD_CHECK_SECONDS = 5.0
MODEL_NAME = "dispatch.joblib"


def model_dir() -> Path:
    return Path(settings.DATA_DIR) / "models"


def model_path() -> Path:
    return model_dir() / MODEL_NAME


# --- features ------------------------------------------------------------------------------


def features(summary: str, content: str, district_id: int | None) -> str:
    words = [vocabulary.canonical(w) for w in vocabulary.words(f"{summary} {content}")]
    words.append(f"district{district_id or 0}")
    return " ".join(words)


@dataclass
class Example:
    text: str
    department_id: int
    category_id: int | None
    created_at: dt.datetime


def load_examples(*, limit: int | None = None, before: dt.datetime | None = None) -> list[Example]:
    """Labelled history, newest first: one short read, no lock held afterwards."""
    from hotline.cases.models import Ticket

    qs = Ticket.objects.filter(status__in=TRAINING_STATUSES, lead_department__isnull=False)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = list(
        qs.order_by("-created_at").values_list("summary", "content", "district_id", "lead_department_id", "category_id", "created_at")[
            : limit or MAX_TRAINING_TICKETS
        ]
    )
    return [Example(features(s, c, d), dep, cat, at) for s, c, d, dep, cat, at in rows]


# --- the model -------------------------------------------------------------------------------


@dataclass
class Ranked:
    id: int
    confidence: float


@dataclass
class DispatchModel:
    version: str
    trained_at: str
    examples: int
    vectorizer: Any
    department_clf: Any
    category_clf: Any | None
    #: Held-out figures measured at training time.
    metrics: dict[str, Any] = field(default_factory=dict)

    def rank(self, text: str, k: int = 3) -> tuple[list[Ranked], list[Ranked]]:
        """Ranked departments and categories. For one appeal, scikit-learn's
        per-call input checks cost more than the arithmetic (~25 ms against
        ~1 ms), so the same TF-IDF and one-vs-rest logistic scores are computed
        here from the fitted weights; ``rank_reference`` is the library's way,
        and a test holds the two equal."""
        scorer = self.__dict__.get("_scorer")
        if scorer is None:
            scorer = self.__dict__["_scorer"] = _Scorer(self)
        return scorer.rank(text, k)

    def rank_reference(self, text: str, k: int = 3) -> tuple[list[Ranked], list[Ranked]]:
        x = self.vectorizer.transform([text])
        return _top(self.department_clf, x, k), (_top(self.category_clf, x, k) if self.category_clf is not None else [])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_scorer", None)
        return state


def _top(clf: Any, x: Any, k: int) -> list[Ranked]:
    if hasattr(clf, "predict_proba"):
        probs = clf.predict_proba(x)[0]
    else:  # a one-class "classifier" (all history went to one department)
        return [Ranked(int(clf.classes_[0]), 1.0)]
    order = probs.argsort()[::-1][:k]
    return [Ranked(int(clf.classes_[i]), round(float(probs[i]), 4)) for i in order]


class _Scorer:
    """TF-IDF (sublinear tf, words and word pairs, l2) and one-vs-rest logistic
    probabilities, as TfidfVectorizer + SGDClassifier(log_loss).predict_proba."""

    def __init__(self, model: DispatchModel) -> None:
        import numpy as np

        v = model.vectorizer
        self.vocab: dict[str, int] = v.vocabulary_
        self.idf = np.asarray(v.idf_, dtype=np.float64)
        self.heads = [self._head(model.department_clf), self._head(model.category_clf) if model.category_clf is not None else None]

    @staticmethod
    def _head(clf: Any) -> tuple[Any, Any, Any] | None:
        import numpy as np

        if not hasattr(clf, "coef_"):
            return (np.asarray(clf.classes_), None, None)
        return (np.asarray(clf.classes_), np.ascontiguousarray(clf.coef_.T), np.asarray(clf.intercept_))

    def rank(self, text: str, k: int) -> tuple[list[Ranked], list[Ranked]]:
        import numpy as np

        tokens = text.split()
        counts: dict[int, int] = {}
        for gram in (*tokens, *(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))):
            j = self.vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[idx]
        norm = float(np.sqrt((weights * weights).sum()))
        if norm:
            weights /= norm
        out: list[list[Ranked]] = []
        for head in self.heads:
            if head is None:
                out.append([])
                continue
            classes, coef_t, intercept = head
            if coef_t is None:
                out.append([Ranked(int(classes[0]), 1.0)])
                continue
            scores = weights @ coef_t[idx] + intercept if len(idx) else intercept.copy()
            if len(classes) == 2:  # binary: one weight vector for the second class
                p1 = 1.0 / (1.0 + np.exp(-scores[0]))
                probs = np.array([1.0 - p1, p1])
            else:
                probs = 1.0 / (1.0 + np.exp(-scores))
                total = probs.sum()
                probs = probs / total if total else np.full(len(classes), 1.0 / len(classes))
            order = probs.argsort()[::-1][:k]
            out.append([Ranked(int(classes[i]), round(float(probs[i]), 4)) for i in order])
        return out[0], out[1]


class _Constant:
    """Stands in for a classifier when the history has a single class."""

    def __init__(self, label: int) -> None:
        self.classes_ = [label]


def _fit(texts: Sequence[str], labels: Sequence[int], vectorizer: Any | None = None) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

    if vectorizer is None:
        vectorizer = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                     max_features=500_000, dtype=_float32())
        x = vectorizer.fit_transform(texts)
    else:
        x = vectorizer.transform(texts)
    if len(set(labels)) < 2:
        return vectorizer, _Constant(int(labels[0]))
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    clf = SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=30, tol=1e-4, random_state=7)
    with warnings.catch_warnings():
        # 30 epochs are plenty for ranking; the exact optimum does not matter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, list(labels))
    return vectorizer, clf


def _float32() -> Any:
    import numpy as np

    return np.float32


def evaluate(model: DispatchModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Top-1 and top-3 department accuracy on ``examples`` beside the majority
    baseline (always suggesting the most frequent department of the training set)."""
    if not examples:
        return {"count": 0}
    top1 = top3 = 0
    cat1 = cat_count = 0
    for ex in examples:
        deps, cats = model.rank(ex.text, 3)
        ids = [r.id for r in deps]
        top1 += bool(ids) and ids[0] == ex.department_id
        top3 += ex.department_id in ids
        if ex.category_id is not None and cats:
            cat_count += 1
            cat1 += cats[0].id == ex.category_id
    n = len(examples)
    return {"count": n, "top1": round(top1 / n, 4), "top3": round(top3 / n, 4),
            "category_top1": round(cat1 / cat_count, 4) if cat_count else None}


def majority_baseline(train: Sequence[Example], test: Sequence[Example]) -> dict[str, float]:
    counts = Counter(ex.department_id for ex in train)
    ranked = [d for d, _ in counts.most_common(3)]
    n = len(test) or 1
    return {"top1": round(sum(ex.department_id == ranked[0] for ex in test) / n, 4) if ranked else 0.0,
            "top3": round(sum(ex.department_id in ranked for ex in test) / n, 4)}


def fit_model(examples: Sequence[Example], *, now: dt.datetime) -> DispatchModel:
    texts = [ex.text for ex in examples]
    vectorizer, dep_clf = _fit(texts, [ex.department_id for ex in examples])
    with_cat = [(ex.text, ex.category_id) for ex in examples if ex.category_id is not None]
    cat_clf = None
    if with_cat:
        _, cat_clf = _fit([t for t, _ in with_cat], [c for _, c in with_cat], vectorizer)  # type: ignore[misc]
    digest = hashlib.sha256(f"{now.isoformat()}:{len(examples)}".encode()).hexdigest()[:8]
    return DispatchModel(version=f"{now:%Y%m%d%H%M%S}-{digest}", trained_at=now.isoformat(), examples=len(examples),
                         vectorizer=vectorizer, department_clf=dep_clf, category_clf=cat_clf)


def split(examples: Sequence[Example], test_share: float = 0.2, seed: int = 20261125) -> tuple[list[Example], list[Example]]:
    """A reproducible random held-out split."""
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * (1 - test_share))
    return shuffled[:cut], shuffled[cut:]


def train(*, now: dt.datetime, limit: int | None = None, holdout: float = 0.2, path: Path | None = None,
          progress: Callable[[str], None] | None = None) -> DispatchModel | None:
    """Train on the history, measure on a held-out split, then refit on everything
    and write the model file atomically. Returns None when the history is too small."""
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    examples = load_examples(limit=limit)
    say(f"{len(examples)} labelled tickets loaded")
    if len(examples) < MIN_TRAINING_TICKETS:
        say(f"fewer than {MIN_TRAINING_TICKETS} labelled tickets: no model written")
        return None
    metrics: dict[str, Any] = {}
    if holdout > 0:
        train_part, test_part = split(examples, holdout)
        probe = fit_model(train_part, now=now)
        metrics = {"held_out": evaluate(probe, test_part), "majority_baseline": majority_baseline(train_part, test_part)}
        say(f"held-out: {metrics['held_out']}, majority baseline: {metrics['majority_baseline']}")
    model = fit_model(examples, now=now)
    metrics["seconds"] = round(time.monotonic() - started, 2)
    model.metrics = metrics
    save(model, path or model_path())
    say(f"model {model.version} written ({model.examples} tickets, {metrics['seconds']} s)")
    return model


def save(model: DispatchModel, path: Path) -> None:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".dispatch-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            joblib.dump(model, f, compress=3)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ModelCache:
    """The newest model file, loaded once per change (file identity: inode, size,
    mtime), checked at most every RELOAD_CHECK_SECONDS. Loading never blocks a
    request on training: the file is replaced atomically, and until the new one is
    read the old model keeps answering."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: DispatchModel | None = None
        self._identity: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._path: Path | None = None

    def invalidate(self) -> None:
        self._checked = 0.0

    def get(self) -> DispatchModel | None:
        path = model_path()
        now = time.monotonic()
        if path == self._path and now - self._checked < RELOAD_CHECK_SECONDS:
            return self._model
        with self._lock:
            try:
                st = path.stat()
                identity: tuple[Any, ...] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
            except FileNotFoundError:
                identity = None
            if identity != self._identity or path != self._path:
                self._model = _load(path) if identity else None
                self._identity, self._path = identity, path
            self._checked = now
        return self._model


def _load(path: Path) -> DispatchModel | None:
    import joblib

    try:
        model = joblib.load(path)
    except Exception:  # a damaged file: keep serving rules only, and say so in the log
        logger.exception("cannot load the dispatch model %s", path)
        return None
    return model if isinstance(model, DispatchModel) else None


models = ModelCache()


# --- suggestions --------------------------------------------------------------------------------


@dataclass
class Suggestion:
    source: str  # "rule", "model" or "none"
    model_version: str
    departments: list[Ranked]
    categories: list[Ranked]
    rule_id: int | None = None


#: Active routing rules are cached per process this long (a change made in this
#: process is seen at once; one made in another process within this many seconds).
RULES_CACHE_SECONDS = 5.0


class _RuleCache:
    def __init__(self) -> None:
        self.rules: dict[tuple[int, int | None], tuple[int, int]] = {}
        self.loaded = -1e9

    def invalidate(self) -> None:
        self.loaded = -1e9

    def get(self) -> dict[tuple[int, int | None], tuple[int, int]]:
        from hotline.knowledge.models import RoutingRule

        now = time.monotonic()
        if now - self.loaded > RULES_CACHE_SECONDS:
            self.rules = {(c, d): (pk, dep) for pk, c, d, dep in
                          RoutingRule.objects.filter(active=True).values_list("pk", "category_id", "district_id", "department_id")}
            self.loaded = now
        return self.rules


rules = _RuleCache()


def rule_for(category_id: int | None, district_id: int | None) -> tuple[int, int] | None:
    """(rule id, department id) of the rule for the category in the district, else
    the category's city-wide rule, else None."""
    if category_id is None:
        return None
    table = rules.get()
    return table.get((category_id, district_id)) if district_id is not None and (category_id, district_id) in table else table.get((category_id, None))


def suggest(summary: str, content: str, *, district_id: int | None = None, category_id: int | None = None,
            k: int = 3) -> Suggestion:
    model = models.get()
    departments: list[Ranked] = []
    categories: list[Ranked] = []
    if model is not None and (summary or content):
        departments, categories = model.rank(features(summary, content, district_id), k)
    chosen_category = category_id if category_id is not None else (categories[0].id if categories else None)
    rule = rule_for(chosen_category, district_id)
    source = "model" if departments else "none"
    if rule is not None:
        rule_id, department_id = rule
        departments = [Ranked(department_id, 1.0), *[r for r in departments if r.id != department_id]][:k]
        source = "rule"
    return Suggestion(source, model.version if model else "", departments, categories, rule[0] if rule else None)
