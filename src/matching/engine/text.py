"""TF-IDF of the words a young person and an offer are described in: scikit-learn's `TfidfVectorizer(
stop_words="english", sublinear_tf=True, dtype=np.float32)`, written out.

Why not scikit-learn itself: importing it takes 1.4 s on this machine (it loads scipy.stats and pandas),
which was most of `springboard match explain` (issue 16: under 1 s) and of every worker's start, for a
computation of a few lines. `tests/test_text.py` checks on generated texts that this gives scikit-learn's
vocabulary and vectors, and that the stop words are its list.

The vectors are `Rows`, numpy arrays in scipy's compressed-row layout: one young person's alternatives need
only their vector against each offer's (`Rows.dot_row`), and importing scipy.sparse took 0.13 s of the
answer. A run's many people against many offers uses scipy's product on the same arrays (`Rows.csr`).
"""

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's token_pattern: words of two or more characters
STOP_WORDS = frozenset("""
    a about above across after afterwards again against all almost alone along already also although always am
    among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere are around as at
    back be became because become becomes becoming been before beforehand behind being below beside besides
    between beyond bill both bottom but by call can cannot cant co con could couldnt cry de describe detail do
    done down due during each eg eight either eleven else elsewhere empty enough etc even ever every everyone
    everything everywhere except few fifteen fifty fill find fire first five for former formerly forty found
    four from front full further get give go had has hasnt have he hence her here hereafter hereby herein
    hereupon hers herself him himself his how however hundred i ie if in inc indeed interest into is it its
    itself keep last latter latterly least less ltd made many may me meanwhile might mill mine more moreover
    most mostly move much must my myself name namely neither never nevertheless next nine no nobody none noone
    nor not nothing now nowhere of off often on once one only onto or other others otherwise our ours ourselves
    out over own part per perhaps please put rather re same see seem seemed seeming seems serious several she
    should show side since sincere six sixty so some somehow someone something sometime sometimes somewhere
    still such system take ten than that the their them themselves then thence there thereafter thereby
    therefore therein thereupon these they thick thin third this those though three through throughout thru
    thus to together too top toward towards twelve twenty two un under until up upon us very via was we well
    were what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever whether
    which while whither who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves
""".split())  # noqa: SIM905 (the list as scikit-learn prints it)


class Rows:
    """Sparse rows in scipy's canonical CSR layout (each row's columns sorted, none repeated): `data`,
    `indices` and `indptr` are what `scipy.sparse.csr_matrix` would hold, built and used without it."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, width: int):
        self.data, self.indices, self.indptr, self.width = data, indices, indptr, width
        self._csr: Any = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.width

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, rows: slice) -> "Rows":
        """A run of consecutive rows (the mentors' or the opportunities' part of the fitted matrix)."""
        start, stop, step = rows.indices(len(self))
        if step != 1:
            raise IndexError("only consecutive rows")
        stop = max(start, stop)
        first, last = self.indptr[start], self.indptr[stop]
        return Rows(self.data[first:last], self.indices[first:last], self.indptr[start:stop + 1] - first, self.width)

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=self.dtype)
        dense[np.repeat(np.arange(len(self)), np.diff(self.indptr)), self.indices] = self.data
        return dense

    def csr(self):
        """The same rows as a scipy matrix, for products of many rows by many (a run's); made once."""
        if self._csr is None:
            from scipy import sparse

            self._csr = sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)
        return self._csr

    def dot_row(self, other: "Rows", row: int) -> np.ndarray:
        """`other[row]`'s dot product with each of these rows, as scipy's `other[[row]] @ self.T` gives it, to
        the last bit: in float32, over that row's words in column order, one product added at a time."""
        out = np.zeros(len(self), dtype=np.result_type(self.dtype, other.dtype))
        owner = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        start, stop = other.indptr[row], other.indptr[row + 1]
        for column, weight in zip(other.indices[start:stop].tolist(), other.data[start:stop], strict=True):
            hit = np.flatnonzero(self.indices == column)  # at most one entry a row: no row twice below
            out[owner[hit]] += weight * self.data[hit]
        return out


class Tfidf:
    """Fitted on the offers' words: each word's column, and its smoothed inverse document frequency."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray):
        self.vocabulary, self.idf = vocabulary, idf

    @classmethod
    def fit(cls, texts: Sequence[str]) -> tuple["Tfidf", Rows]:
        """The model and the texts' vectors; ValueError when not one word is left (as scikit-learn does)."""
        found = _tokens(texts)  # stop words are left out with the vocabulary
        vocabulary = {word: column for column, word in enumerate(sorted(set().union(*found) - STOP_WORDS))}
        if not vocabulary:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        columns = ([vocabulary[word] for word in each if word in vocabulary] for each in found)
        counts = _counts(columns, len(texts), len(vocabulary))
        documents = np.bincount(counts.indices, minlength=len(vocabulary)).astype(np.float32)
        idf = np.log(np.float32(len(texts) + 1) / (documents + 1), dtype=np.float32) + np.float32(1)
        model = cls(vocabulary, idf)
        return model, model._weighted(counts)

    def transform(self, texts: Sequence[str]) -> Rows:
        """Vectors of other texts in the fitted columns; words the offers never use are left out (stop words
        among them: they are never in the vocabulary)."""
        vocabulary = self.vocabulary
        columns = ([vocabulary[word] for word in each if word in vocabulary] for each in _tokens(texts))
        return self._weighted(_counts(columns, len(texts), len(vocabulary)))

    def _weighted(self, counts: Rows) -> Rows:
        """1 + log(count), times the word's idf, each row scaled to length 1 (the length summed as scipy's
        `sum(axis=1)` sums a row: numpy's reduceat over the row's entries)."""
        counts.data = (np.log(counts.data) + np.float32(1)) * self.idf[counts.indices]
        lengths = np.zeros(len(counts), dtype=counts.data.dtype)
        filled = np.flatnonzero(np.diff(counts.indptr))
        if len(filled):
            lengths[filled] = np.add.reduceat(counts.data * counts.data, counts.indptr[filled])
        lengths = np.sqrt(lengths)
        counts.data /= np.repeat(np.where(lengths > 0, lengths, 1), np.diff(counts.indptr)).astype(np.float32)
        return counts


def _tokens(texts: Iterable[str]) -> list[list[str]]:
    """Each text's `TOKEN.findall(text.lower())`, found a whitespace-separated piece at a time and each distinct
    piece once: no word spans whitespace, and tags and titles repeat from text to text (half the time)."""
    seen: dict[str, list[str]] = {}
    found = []
    for text in texts:
        words: list[str] = []
        for piece in text.lower().split():
            if (known := seen.get(piece)) is None:
                known = seen[piece] = TOKEN.findall(piece)
            words += known
        found.append(words)
    return found


def _counts(columns: Iterable[list[int]], rows: int, width: int) -> Rows:
    """Each text's word columns, counted: one entry per word a row uses, in column order."""
    flat, ends = [], [0]
    for each in columns:
        flat += each
        ends.append(len(flat))
    row_of = np.repeat(np.arange(rows, dtype=np.int64), np.diff(np.array(ends, dtype=np.int64)))
    # Row-then-column keys, sorted and counted: each row's columns in order, a word used twice one entry of 2.
    keys, counts = np.unique(row_of * max(width, 1) + np.array(flat, dtype=np.int64), return_counts=True)
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // max(width, 1), minlength=rows), out=indptr[1:])
    return Rows(counts.astype(np.float32), (keys % max(width, 1)).astype(np.int32), indptr, width)
