"""The engine's TF-IDF (matching.engine.text) gives scikit-learn's TfidfVectorizer's vocabulary and vectors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from matching.engine.text import STOP_WORDS, Tfidf

# Words the fixtures use, stop words, case, digits, punctuation, accents and one-letter words (never words).
VOCABULARY = ["IT", "digital", "Digital", "transport", "the", "and", "care", "café", "naïve", "a", "I", "x",
              "2026", "NHS", "parks", "parks.", "gardening,", "co-op", "don't", "well-being", "über", "ÆON", "Σίσυφος"]
TEXTS = st.lists(st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join), min_size=1, max_size=15)


def sklearn_tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(stop_words="english", sublinear_tf=True, dtype=np.float32)


def test_the_stop_words_are_scikit_learns():
    assert STOP_WORDS == ENGLISH_STOP_WORDS


@settings(max_examples=200, deadline=None)
@given(offers=TEXTS, people=TEXTS)
def test_vectors_are_scikit_learns(offers, people):
    theirs = sklearn_tfidf()
    try:
        expected = theirs.fit_transform(offers)
    except ValueError:
        with pytest.raises(ValueError):
            Tfidf.fit(offers)
        return
    ours, fitted = Tfidf.fit(offers)
    assert ours.vocabulary == theirs.vocabulary_
    assert np.allclose(ours.idf, theirs.idf_, atol=1e-6)
    assert np.allclose(fitted.toarray(), expected.toarray(), atol=1e-6)
    assert np.allclose(ours.transform(people).toarray(), theirs.transform(people).toarray(), atol=1e-6)
    assert fitted.dtype == np.float32 and ours.transform(people).shape == (len(people), len(ours.vocabulary))


def test_a_text_of_only_unknown_or_stop_words_is_a_row_of_zeros():
    model, _ = Tfidf.fit(["Parks and gardening", "Digital skills"])
    vectors = model.transform(["the and of", "", "plumbing", "parks"]).toarray()
    assert not vectors[:3].any() and vectors[3].max() == pytest.approx(1.0)
