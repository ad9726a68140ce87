"""TF-IDF of the words a young person and an offer are described in: scikit-learn's `TfidfVectorizer(
stop_words="english", sublinear_tf=True, dtype=np.float32)`, written out.

Why not scikit-learn itself: importing it takes 1.4 s on this machine (it loads scipy.stats and pandas),
which was most of `springboard match explain` (issue 16: under 1 s) and of every worker's start, for a
computation of a few lines. `tests/test_text.py` checks on generated texts that this gives scikit-learn's
vocabulary and vectors, and that the stop words are its list.
"""

import re
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

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


def words(text: str) -> list[str]:
    return [word for word in TOKEN.findall(text.lower()) if word not in STOP_WORDS]


class Tfidf:
    """Fitted on the offers' words: each word's column, and its smoothed inverse document frequency."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray):
        self.vocabulary, self.idf = vocabulary, idf

    @classmethod
    def fit(cls, texts: Sequence[str]) -> tuple["Tfidf", sparse.csr_matrix]:
        """The model and the texts' vectors; ValueError when not one word is left (as scikit-learn does)."""
        found = [words(text) for text in texts]
        vocabulary = {word: column for column, word in enumerate(sorted(set().union(*found)))}
        if not vocabulary:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        counts = _counts(([vocabulary[word] for word in each] for each in found), len(texts), len(vocabulary))
        documents = np.bincount(counts.indices, minlength=len(vocabulary)).astype(np.float32)
        idf = np.log(np.float32(len(texts) + 1) / (documents + 1), dtype=np.float32) + np.float32(1)
        model = cls(vocabulary, idf)
        return model, model._weighted(counts)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Vectors of other texts in the fitted columns; words the offers never use are left out (stop words
        among them: they are never in the vocabulary)."""
        vocabulary = self.vocabulary
        columns = ([vocabulary[word] for word in TOKEN.findall(text.lower()) if word in vocabulary] for text in texts)
        return self._weighted(_counts(columns, len(texts), len(vocabulary)))

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """1 + log(count), times the word's idf, each row scaled to length 1."""
        counts.data = (np.log(counts.data) + np.float32(1)) * self.idf[counts.indices]
        lengths = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        counts.data /= np.repeat(np.where(lengths > 0, lengths, 1), np.diff(counts.indptr)).astype(np.float32)
        return counts


def _counts(columns: Iterable[list[int]], rows: int, width: int) -> sparse.csr_matrix:
    """Each text's word columns, counted: one entry per word a row uses, in column order."""
    flat, ends = [], [0]
    for each in columns:
        flat += each
        ends.append(len(flat))
    counts = sparse.csr_matrix((np.ones(len(flat), dtype=np.float32), np.array(flat, dtype=np.int32),
                                np.array(ends, dtype=np.int64)), shape=(rows, width))
    counts.sum_duplicates()  # sorts each row's columns and adds up repeated words
    return counts
