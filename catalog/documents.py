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
    splits: dict[str, tuple[str, str] | None] = {}
    for doc, text in zip(docs.words, docs.text, strict=True):
        said = text.split()
        for left, right in itertools.pairwise(said):
            joined = left + right
            if joined in words and joined not in doc:
                doc[joined] = (doc[left][0] + doc[right][0], False)
        for key in said:
            if key not in splits:
                cuts = ((key[:cut], key[cut:]) for cut in range(3, len(key) - 2))
                splits[key] = next((pair for pair in cuts if pair in pairs), None)
            pair = splits[key]
            if pair is not None:
                half = doc[key][0] / 2
                doc.setdefault(pair[0], (half, False))
                doc.setdefault(pair[1], (half, False))


@dataclass(frozen=True)
class Postings:
    """The inverted index: for word w, documents doc[offsets[w]:offsets[w + 1]] (ascending)."""

    idf: npt.NDArray[np.float32]
    offsets: npt.NDArray[np.int64]
    doc: npt.NDArray[np.int64]
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
    doc_of: list[int] = []
    word_of: list[int] = []
    factor_of: list[float] = []
    counted: list[bool] = []
    branded: list[bool] = []
    for doc, (words, brand) in enumerate(zip(docs.words, docs.brands, strict=True)):
        for word, (factor, counts) in words.items():
            doc_of.append(doc)
            word_of.append(vocab.ids[word])
            factor_of.append(factor)
            counted.append(counts)
            branded.append(bool(brand) and word in brand)
    count = len(docs.words)
    word_ids = np.array(word_of, dtype=np.int64)
    doc_ids = np.array(doc_of, dtype=np.int64)
    sizes = np.bincount(word_ids, minlength=len(vocab))
    idf = np.log1p(count / np.maximum(sizes, 1)).astype(np.float32)
    weight = np.array(factor_of, dtype=np.float32) * idf[word_ids]
    brand_weight = np.where(branded, idf[word_ids], 0).astype(np.float32)
    own = np.bincount(doc_ids, weights=np.where(counted, weight, 0), minlength=count)
    doc_brand = np.bincount(doc_ids, weights=brand_weight, minlength=count)
    order = np.argsort(word_ids, kind="stable")  # by word, then document as enumerated
    return Postings(
        idf=idf,
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        doc=doc_ids[order],
        weight=weight[order],
        brand=brand_weight[order],
        doc_weight=np.maximum(own, 1e-6).astype(np.float32),
        doc_brand=doc_brand.astype(np.float32),
    )
