"""A catalog's products as weighted word documents, and their postings, for catalog.match.

Each product gives a name document (brand and size words count for matching, not for how much
of the name was said) and one document per alias. Document i is product i; alias documents
follow. Words are in matching form (catalog.text.match_words).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from catalog.model import Product
from catalog.phonetic import Vocabulary
from catalog.text import match_words

BRAND_WEIGHT = 0.4
"""A brand counts this much of a name word: "paper towels" should still find Bounty's."""


@dataclass
class Documents:
    """Per document: its product (index), label, name text, weighted words and brand words."""

    product: list[int]
    label: list[str]
    text: list[str]
    words: list[dict[str, tuple[float, bool]]]
    """word -> (weight factor, whether it counts toward what there is to say of the name)."""
    brands: list[list[str]]


def build_documents(products: Sequence[Product]) -> Documents:
    """Name documents first (document i is product i), then one per alias."""
    docs = Documents([], [], [], [], [])
    aliases: list[tuple[int, str, dict[str, tuple[float, bool]]]] = []
    for index, product in enumerate(products):
        name = _keys(product.name)
        brand = _keys(product.brand)
        extra = dict.fromkeys(_keys(product.size), (0.0, False))
        docs.product.append(index)
        docs.label.append("name")
        docs.text.append(" ".join(name))
        own = {**dict.fromkeys(brand, (BRAND_WEIGHT, False)), **dict.fromkeys(name, (1.0, True))}
        docs.words.append({**extra, **own})
        docs.brands.append(brand)
        for alias in product.aliases:
            said = _keys(alias)
            words = {**extra, **dict.fromkeys(brand, (BRAND_WEIGHT, False))}
            aliases.append((index, alias, {**words, **dict.fromkeys(said, (1.0, True))}))
    for index, alias, words in aliases:
        docs.product.append(index)
        docs.label.append(f"alias '{alias}'")
        docs.text.append(" ".join(_keys(alias)))
        docs.words.append(words)
        docs.brands.append(_keys(products[index].brand))
    _add_compounds(docs)
    return docs


def _keys(text: str) -> list[str]:
    return [key for key, _ in match_words(text)] if text else []


def _add_compounds(docs: Documents) -> None:
    """Index "almondmilk" under almond + milk and "almond milk" under almondmilk, when the
    catalog itself writes both ways; never "pineapple" under apple."""
    words = {w for doc in docs.words for w in doc}
    pairs = {pair for text in docs.text for pair in itertools.pairwise(text.split())}
    for doc in docs.words:
        keys = [k for k, (_, counts) in doc.items() if counts]
        for left, right in itertools.pairwise(keys):
            joined = left + right
            if joined in words and joined not in doc:
                doc[joined] = (doc[left][0] + doc[right][0], False)
        for key in keys:
            for cut in range(3, len(key) - 2):
                if (key[:cut], key[cut:]) in pairs:
                    half = doc[key][0] / 2
                    doc.setdefault(key[:cut], (half, False))
                    doc.setdefault(key[cut:], (half, False))
                    break


@dataclass(frozen=True)
class Postings:
    """The inverted index: for word w, documents doc[offsets[w]:offsets[w + 1]] (ascending)."""

    idf: npt.NDArray[np.float32]
    offsets: npt.NDArray[np.int64]
    doc: npt.NDArray[np.int32]
    weight: npt.NDArray[np.float32]
    """Per posting: factor x idf, what saying the word adds to how much of the name was said."""
    brand: npt.NDArray[np.float32]
    """Per posting: idf when the word is one of the document's brand words, else 0."""
    doc_weight: npt.NDArray[np.float32]
    """Per document: the weight of all there is to say of its name."""
    doc_brand: npt.NDArray[np.float32]
    """Per document: the weight of its brand words."""


def build_postings(docs: Documents, vocab: Vocabulary) -> Postings:
    """Postings of every vocabulary word, with idf = log(1 + documents / documents with it)."""
    count = len(docs.words)
    postings: list[list[tuple[int, float]]] = [[] for _ in vocab.words]
    for doc, words in enumerate(docs.words):
        for word, (factor, _) in words.items():
            postings[vocab.ids[word]].append((doc, factor))
    sizes = [len(p) for p in postings]
    idf = np.log1p(count / np.array(sizes, dtype=np.float32)).astype(np.float32)
    factors = np.array([f for p in postings for _, f in p], dtype=np.float32)
    branded = [
        w in docs.brands[d] for w, p in zip(vocab.words, postings, strict=True) for d, _ in p
    ]
    own = [
        (doc, vocab.ids[w], f)
        for doc, words in enumerate(docs.words)
        for w, (f, counts) in words.items()
        if counts
    ]
    doc_of = np.array([d for d, _, _ in own], dtype=np.int64)
    word_of = np.array([w for _, w, _ in own], dtype=np.int64)
    factor_of = np.array([f for _, _, f in own], dtype=np.float32)
    own_weight = np.bincount(doc_of, weights=factor_of * idf[word_of], minlength=count)
    doc_brand = [sum(float(idf[vocab.ids[w]]) for w in set(b)) for b in docs.brands]
    return Postings(
        idf=idf,
        offsets=np.cumsum([0, *sizes], dtype=np.int64),
        doc=np.array([d for p in postings for d, _ in p], dtype=np.int32),
        weight=(factors * np.repeat(idf, sizes)).astype(np.float32),
        brand=np.where(branded, np.repeat(idf, sizes), 0).astype(np.float32),
        doc_weight=np.maximum(own_weight, 1e-6).astype(np.float32),
        doc_brand=np.array(doc_brand, dtype=np.float32),
    )
