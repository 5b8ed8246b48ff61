"""`voicecart catalog check|search` through the real CLI entry point, output and exit codes."""

from __future__ import annotations

import io
import json

import pytest

from catalog.demo import DEMO_CATALOGS, load_demo_catalog
from server.__main__ import main
from tests.conftest import FIXTURES

GROCERY = str(DEMO_CATALOGS["grocery"])
INVALID = FIXTURES / "catalogs" / "invalid"


def test_check_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check", GROCERY]) == 0
    out = capsys.readouterr().out
    grocery = load_demo_catalog("grocery")
    assert out.startswith(f"ok: {GROCERY}\n")
    assert f"products: {len(grocery.products)}\n" in out
    assert f"stores: {len(grocery.stores)} (market-elm-street, market-riverside)\n" in out
    categories = {p.category for p in grocery.products.values()}
    assert f"categories: {len(categories)} (" in out
    assert "option groups: 0\n" in out


def test_check_reads_the_coffee_option_groups(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check", str(DEMO_CATALOGS["coffee"])]) == 0
    coffee = load_demo_catalog("coffee")
    assert f"option groups: {len(coffee.option_groups)} (size, " in capsys.readouterr().out


def test_check_prints_every_problem_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    path = INVALID / "many_problems.yaml"
    assert main(["catalog", "check", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert f"{path}:3: currency:" in captured.err
    assert "duplicate product id 'latte'" in captured.err
    assert len(captured.err.strip().splitlines()) >= 5


def test_check_missing_file_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check", "no/such/catalog.yaml"]) == 1
    assert "no/such/catalog.yaml" in capsys.readouterr().err


def test_search_prints_ranked_matches(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["catalog", "search", "--catalog", GROCERY, "county paper towels", "quantum flux"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "'county paper towels':"
    assert lines[1].startswith("  1. ")
    assert "paper-towels-bounty  Select-A-Size Paper Towels" in lines[1]
    assert "'county'->'bounti'" in lines[1]
    score = float(lines[1].split()[1])
    assert 70 <= score <= 100
    assert lines[-2:] == ["'quantum flux':", "  no match"]


def test_search_says_when_ambiguous(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "search", "--catalog", GROCERY, "--limit", "2", "paper towels"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert {line.split()[2] for line in lines[1:3]} == {"paper-towels-bounty", "paper-towels-viva"}
    assert lines[3] == "  (ambiguous: the top two are too close to call)"


def test_search_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    queries = ["the bounty ones", "quantum flux capacitor", "milk", "oak milk"]
    assert (
        main(["catalog", "search", "--catalog", GROCERY, "--json", "--limit", "3", *queries]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(queries)
    results = [json.loads(line) for line in lines]
    for query, result in zip(queries, results, strict=True):
        assert list(result) == ["query", "matches", "ambiguous"]
        assert result["query"] == query
        assert isinstance(result["ambiguous"], bool)
        assert len(result["matches"]) <= 3
        for match in result["matches"]:
            assert list(match) == ["product_id", "name", "score"]
            assert isinstance(match["score"], float)
    bounty, nothing, milk, oak = results
    assert bounty["matches"][0]["product_id"] == "paper-towels-bounty"
    assert nothing == {"query": "quantum flux capacitor", "matches": [], "ambiguous": False}
    assert milk["ambiguous"] is True
    assert oak["matches"][0]["product_id"] in {"oat-milk-oatly", "oat-milk-califia"}


def test_search_reads_stdin_line_by_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("bananas\n\nsnow tires\nhole milk\n"))
    assert main(["catalog", "search", "--catalog", GROCERY, "--json"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["query"] for r in results] == ["bananas", "", "snow tires", "hole milk"]
    assert results[0]["matches"][0]["product_id"].startswith("bananas-")
    assert results[1]["matches"] == []
    assert results[2]["matches"] == []
    assert results[3]["matches"][0]["product_id"] in {"milk-whole-gallon", "milk-organic-whole"}


def test_search_store_filter(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["catalog", "search", "--catalog", GROCERY, "--json", "rotisserie chicken"]
    assert main([*base, "--store", "market-elm-street"]) == 0
    assert main([*base, "--store", "market-riverside"]) == 0
    elm, riverside = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert elm["matches"][0]["product_id"] == "rotisserie-chicken"
    assert "rotisserie-chicken" not in {m["product_id"] for m in riverside["matches"]}


def test_search_an_instacart_products_csv(capsys: pytest.CaptureFixture[str]) -> None:
    csv = FIXTURES / "catalogs" / "instacart" / "products.csv"
    argv = ["catalog", "search", "--catalog", str(csv), "--json", "oolong tea", "cookies"]
    assert main(argv) == 0
    tea, cookies = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert tea["matches"][0]["product_id"] == "3"
    assert cookies["matches"][0]["product_id"] == "1"


def test_search_with_a_broken_catalog_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    bad = INVALID / "duplicate_product_id.yaml"
    assert main(["catalog", "search", "--catalog", str(bad), "milk"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "duplicate product id" in captured.err


@pytest.mark.parametrize("limit", ["0", "-3", "five"])
def test_search_refuses_a_bad_limit(capsys: pytest.CaptureFixture[str], limit: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["catalog", "search", "--catalog", GROCERY, "--limit", limit, "milk"])
    assert exit_info.value.code == 2
    assert "--limit" in capsys.readouterr().err


def test_search_needs_a_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["catalog", "search", "milk"])
    assert exit_info.value.code == 2
    assert "--catalog" in capsys.readouterr().err
