"""The product matcher: every behaviour on small real catalogs, and the spoken quality set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from catalog.demo import load_demo_catalog
from catalog.format import load_catalog
from catalog.match import (
    AMBIGUITY_MARGIN,
    DEFAULT_SCORE_CUTOFF,
    Match,
    ProductIndex,
    is_ambiguous,
    match_option,
)
from catalog.model import Catalog, Choice, OptionGroup, Product
from tests.conftest import FIXTURES

QUALITY_DIR = FIXTURES / "match_quality"
TARGETS = {"clean": 0.95, "stt": 0.90, "none": 0.95}
"""Top-1 accuracy the quality set must reach: clean and speech-to-text queries, and no-match."""

KNOWN_FAILURES = frozenset(
    {
        # Instacart: the abbreviation exists verbatim in a longer, different product.
        ("instacart", "dark choc"),
        ("instacart", "guac"),
        # "san" is unknown and "S." is all the name says of it.
        ("instacart", "san pellegrino"),
        # "car" sounds like "care" and "wash" is a word of the catalog: Men+Care Face Wash.
        ("instacart", "a car wash"),
        # The misheard word is itself a catalog word with full coverage elsewhere.
        ("instacart", "muscles"),
        ("instacart", "crescents"),
        ("instacart", "pairs"),
        ("instacart", "wiped cream"),
        ("instacart", "french flies"),
        ("instacart", "cheese its"),
        # Sounds too far from any spelling: version/virgin, dee john/dijon, source/sauce,
        # brock lee/broccoli, zoo keeny/zucchini.
        ("instacart", "extra version olive oil"),
        ("instacart", "dee john mustard"),
        ("instacart", "soy source"),
        ("instacart", "brock lee"),
        ("instacart", "organic zoo keeny"),
        # Grocery demo: rao's said as "rose", "mayonnaise" split into "mayo nays", "la croy".
        ("grocery", "rose marinara"),
        ("grocery", "mayo nays"),
        ("grocery", "la croy"),
    }
)
"""Quality cases that fail today; each runs as a strict xfail, so a fix is noticed."""


def product(
    product_id: str,
    name: str,
    *,
    brand: str = "",
    aliases: tuple[str, ...] = (),
    stores: tuple[str, ...] | None = None,
) -> Product:
    """A product at one dollar."""
    return Product(product_id, name, 100, brand=brand, aliases=aliases, stores=stores)


def store_catalog() -> list[Product]:
    """A small grocery shelf with brands, aliases and look-alikes."""
    return [
        product("bounty", "Select-A-Size Paper Towels", brand="Bounty", aliases=("paper towels",)),
        product("viva", "Signature Cloth Paper Towels", brand="Viva", aliases=("paper towels",)),
        product("charmin", "Ultra Soft Toilet Paper", brand="Charmin", aliases=("tp",)),
        product("bananas", "Bananas", brand="Dole"),
        product("banana-chips", "Banana Chips", brand="Dole"),
        product("whole-milk", "Whole Milk", brand="Prairie Farms", aliases=("milk",)),
        product("two-percent", "2% Reduced Fat Milk", brand="Prairie Farms", aliases=("milk",)),
        product("oat-milk", "Oat Milk Original", brand="Oatly"),
        product("almond-milk", "Unsweetened Almond Milk", brand="Silk"),
        product("popcorn", "Butter Microwave Popcorn", brand="Orville"),
        product("peanut-butter", "Creamy Peanut Butter", brand="Jif"),
        product("ketchup", "Tomato Ketchup", brand="Heinz"),
        product("cereal", "Honey Nut Cheerios Cereal", brand="General Mills"),
        product("sushi", "California Roll", aliases=("sushi",), stores=("downtown",)),
    ]


@pytest.fixture(scope="module")
def index() -> ProductIndex:
    """The small shelf, indexed."""
    return ProductIndex(store_catalog())


def top(matches: list[Match]) -> str | None:
    """The id of the best match, or None."""
    return matches[0].product_id if matches else None


def test_word_order_does_not_matter(index: ProductIndex) -> None:
    assert top(index.match("towels paper bounty")) == "bounty"
    assert top(index.match("milk oat")) == "oat-milk"


def test_plural_and_singular_match(index: ProductIndex) -> None:
    assert top(index.match("banana")) == "bananas"
    assert top(index.match("peanut butters")) == "peanut-butter"


def test_filler_words_are_ignored(index: ProductIndex) -> None:
    assert top(index.match("the bounty ones")) == "bounty"
    assert top(index.match("a bottle of ketchup please")) == "ketchup"
    assert top(index.match("um can i get some of the oat milk")) == "oat-milk"


def test_brand_only_query_finds_the_brand(index: ProductIndex) -> None:
    matches = index.match("viva")
    assert top(matches) == "viva"
    assert "viva" in matches[0].why.lower() or "name" in matches[0].why


def test_brand_less_query_finds_both_brands_and_is_ambiguous(index: ProductIndex) -> None:
    matches = index.match("paper towels")
    assert {m.product_id for m in matches[:2]} == {"bounty", "viva"}
    assert is_ambiguous(matches)


def test_phonetic_rescue_of_a_misheard_brand(index: ProductIndex) -> None:
    matches = index.match("county paper towels")
    assert top(matches) == "bounty"
    assert "'county'->'bounti'" in matches[0].why
    assert not is_ambiguous(matches)


@pytest.fixture(scope="module")
def demo() -> ProductIndex:
    """The grocery demo catalog (355 products), indexed: word weights as in a real store."""
    return ProductIndex.from_catalog(load_demo_catalog("grocery"))


def test_typos_and_sound_alikes(index: ProductIndex, demo: ProductIndex) -> None:
    assert top(index.match("bannanas")) == "bananas"
    assert top(index.match("honey nut cheerio")) == "cereal"
    assert top(demo.match("oak milk")) in {"oat-milk-oatly", "oat-milk-califia"}
    assert top(demo.match("veeva paper towels")) == "paper-towels-viva"
    assert "phonetic 'veeva'->'viva'" in demo.match("veeva paper towels")[0].why


def test_alias_matches_and_says_so(index: ProductIndex) -> None:
    matches = index.match("tp")
    assert top(matches) == "charmin"
    assert matches[0].why.startswith("alias 'tp'")


def test_split_and_merged_words(index: ProductIndex) -> None:
    assert top(index.match("pop corn")) == "popcorn"
    assert top(index.match("peanutbutter")) == "peanut-butter"


def test_spoken_numbers_and_percent(index: ProductIndex) -> None:
    assert top(index.match("two percent milk")) == "two-percent"
    assert top(index.match("to percent milk")) == "two-percent"


def test_history_picks_the_milk_the_shopper_buys(index: ProductIndex) -> None:
    plain = index.match("milk")
    assert {m.product_id for m in plain[:2]} == {"whole-milk", "two-percent"}
    assert is_ambiguous(plain)
    for bought in ("whole-milk", "two-percent"):
        matches = index.match("milk", history={bought: 3})
        assert top(matches) == bought
        assert not is_ambiguous(matches)


def test_history_does_not_override_what_was_said(index: ProductIndex) -> None:
    assert top(index.match("oat milk", history={"whole-milk": 50})) == "oat-milk"
    assert index.match("quantum flux capacitor", history={"whole-milk": 50}) == []


def test_nonsense_and_empty_queries_match_nothing(index: ProductIndex) -> None:
    for text in ("quantum flux capacitor", "a pair of ski boots", "", "   ", "the the", "um"):
        assert index.match(text) == [], text


def test_store_filter(index: ProductIndex) -> None:
    assert top(index.match("sushi")) == "sushi"
    assert top(index.match("sushi", store_id="downtown")) == "sushi"
    assert index.match("sushi", store_id="airport") == []
    assert top(index.match("oat milk", store_id="airport")) == "oat-milk"


def test_limit_cutoff_and_scores(index: ProductIndex) -> None:
    matches = index.match("milk", limit=3)
    assert len(matches) == 3
    assert all(0 <= m.score <= 100 for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert index.match("milk", limit=1)[0].product_id in {"whole-milk", "two-percent"}
    assert index.match("banana chips")[0].score == 100
    assert index.match("banana chips", score_cutoff=100.01) == []
    assert all(m.score >= DEFAULT_SCORE_CUTOFF for m in index.match("banana"))


def test_long_or_odd_input(index: ProductIndex) -> None:
    assert top(index.match("ketchup" + "s" * 5000)) in {None, "ketchup"}
    assert index.match("quantum " * 5000) == []
    assert top(index.match("heinz tomato ketchup " + "um " * 40)) == "ketchup"
    assert index.match("\x00\n\t🙂 ??") == []
    assert top(index.match("KETCHUP!!!")) == "ketchup"


def test_bad_limit_is_refused(index: ProductIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        index.match("milk", limit=0)


def test_len_and_from_catalog() -> None:
    grocery = load_demo_catalog("grocery")
    index = ProductIndex.from_catalog(grocery)
    assert len(index) == len(grocery.products)
    assert len(ProductIndex([])) == 0
    assert ProductIndex([]).match("milk") == []


def test_is_ambiguous_margin() -> None:
    def m(score: float) -> Match:
        return Match(product_id=str(score), name="x", score=score, why="")

    assert not is_ambiguous([])
    assert not is_ambiguous([m(90)])
    assert is_ambiguous([m(90), m(90 - AMBIGUITY_MARGIN / 2)])
    assert not is_ambiguous([m(90), m(90 - AMBIGUITY_MARGIN - 1)])
    assert is_ambiguous([m(90), m(80)], margin=20)


# --- options ---


def size_group() -> OptionGroup:
    """Coffee sizes, with the ways people say them."""
    return OptionGroup(
        id="size",
        name="Size",
        choices=(
            Choice("tall", "Tall", aliases=("small", "12oz")),
            Choice("grande", "Grande", aliases=("medium", "16 oz")),
            Choice("venti", "Venti", aliases=("large", "20 oz")),
        ),
    )


def milk_group() -> OptionGroup:
    """Milk choices that share the word milk."""
    return OptionGroup(
        id="milk",
        name="Milk",
        choices=(
            Choice("whole", "Whole Milk"),
            Choice("oat", "Oat Milk"),
            Choice("almond", "Almond Milk"),
            Choice("soy", "Soy Milk"),
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("venti", "venti"),
        ("large", "venti"),
        ("a large one", "venti"),
        ("twelve ounce", "tall"),
        ("sixteen ounces", "grande"),
        ("grand day", "grande"),
        ("medium", "grande"),
    ],
)
def test_match_option_sizes(text: str, expected: str) -> None:
    choice = match_option(size_group(), text)
    assert choice is not None
    assert choice.id == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("almond", "almond"),
        ("with almond milk", "almond"),
        ("a grande latte with almond", "almond"),
        ("oat", "oat"),
        ("soy milk please", "soy"),
        ("whole", "whole"),
        ("almon", "almond"),
    ],
)
def test_match_option_milks(text: str, expected: str) -> None:
    choice = match_option(milk_group(), text)
    assert choice is not None
    assert choice.id == expected


@pytest.mark.parametrize("text", ["", "milk", "caramel", "quantum flux", "the"])
def test_match_option_none_when_nothing_fits(text: str) -> None:
    assert match_option(milk_group(), text) is None


def test_match_option_on_the_coffee_demo() -> None:
    coffee = load_demo_catalog("coffee")
    size, milk = coffee.option_groups["size"], coffee.option_groups["milk"]
    assert getattr(match_option(size, "large"), "id", None) == "venti"
    assert getattr(match_option(size, "twelve ounce"), "id", None) == "tall"
    assert getattr(match_option(milk, "almond"), "id", None) == "almond"
    assert getattr(match_option(milk, "two percent"), "id", None) == "two-percent"


# --- the quality set ---


@dataclass(frozen=True)
class QualityCase:
    """One spoken query of the quality set and the ids that count as right (empty: none)."""

    catalog: str
    query: str
    expected: frozenset[str]
    kind: str

    @property
    def group(self) -> str:
        """clean, stt, or none for the no-match cases."""
        return "none" if not self.expected else self.kind

    def correct(self, matches: list[Match]) -> bool:
        """Whether the best match (or its absence) is right."""
        best = matches[0].product_id if matches else None
        return best is None if not self.expected else best in self.expected


def load_quality_cases(directory: Path = QUALITY_DIR) -> list[QualityCase]:
    """Every case of every quality file, in file order."""
    cases: list[QualityCase] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            expected = case["expected"]
            ids = [] if expected is None else [expected] if isinstance(expected, str) else expected
            cases.append(
                QualityCase(data["catalog"], case["query"], frozenset(map(str, ids)), case["kind"])
            )
    return cases


def accuracy(results: Iterator[tuple[QualityCase, bool]]) -> dict[str, tuple[int, int]]:
    """(right, total) per group: clean, stt, none."""
    counts: dict[str, tuple[int, int]] = {}
    for case, right in results:
        hits, total = counts.get(case.group, (0, 0))
        counts[case.group] = (hits + right, total + 1)
    return counts


CASES = load_quality_cases()


@pytest.fixture(scope="module")
def quality_catalogs(shared_dir: Path) -> dict[str, Catalog]:
    """The grocery demo and the 49,688 Instacart products."""
    return {
        "grocery": load_demo_catalog("grocery"),
        "instacart": load_catalog(shared_dir / "data" / "grocery" / "products.csv"),
    }


@pytest.fixture(scope="module")
def quality_indexes(quality_catalogs: dict[str, Catalog]) -> dict[str, ProductIndex]:
    """The quality catalogs, indexed."""
    return {name: ProductIndex.from_catalog(c) for name, c in quality_catalogs.items()}


def test_quality_set_is_big_and_balanced() -> None:
    groups = [case.group for case in CASES]
    assert len(CASES) >= 300
    assert groups.count("stt") >= len(CASES) / 4
    assert groups.count("none") >= 30
    assert {case.catalog for case in CASES} == {"grocery", "instacart"}
    assert {(case.catalog, case.query) for case in CASES} >= KNOWN_FAILURES


def test_quality_ids_exist(quality_catalogs: dict[str, Catalog]) -> None:
    for case in CASES:
        assert case.expected <= set(quality_catalogs[case.catalog].products), case.query


def test_quality_targets(quality_indexes: dict[str, ProductIndex]) -> None:
    results = ((c, c.correct(quality_indexes[c.catalog].match(c.query))) for c in CASES)
    counts = accuracy(results)
    for group, (hits, total) in sorted(counts.items()):
        print(f"top-1 {group}: {hits}/{total} = {hits / total:.1%}")
    for group, target in TARGETS.items():
        hits, total = counts[group]
        assert hits / total >= target, f"{group}: {hits}/{total} below {target:.0%}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=f"{c.catalog}:{c.query}",
            marks=[pytest.mark.xfail(strict=True)]
            if (c.catalog, c.query) in KNOWN_FAILURES
            else [],
        )
        for c in CASES
    ],
)
def test_quality_case(case: QualityCase, quality_indexes: dict[str, ProductIndex]) -> None:
    matches = quality_indexes[case.catalog].match(case.query)
    assert case.correct(matches), [(m.product_id, m.name, m.score, m.why) for m in matches[:3]]
