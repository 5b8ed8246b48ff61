"""Catalog: search products by what the shopper said, and read one product with its options."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalog.model import Catalog, Product
from orders.errors import ProductNotFound
from server.deps import CatalogDep
from server.routes import ERRORS
from server.schemas import ChoiceOut, MatchOut, OptionGroupOut, ProductOut, SearchOut
from server.session_route import SessionRoute

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=ERRORS, route_class=SessionRoute)


@router.get("/search")
def search(
    catalog: CatalogDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="what the shopper said")],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
) -> SearchOut:
    """Products the words may mean, best first; an empty list when nothing is close."""
    matches = catalog.index.match(q, limit=limit, store_id=store_id)
    out = []
    for match in matches:
        product = catalog.catalog.product(match.product_id)
        out.append(
            MatchOut(
                product_id=match.product_id,
                name=match.name,
                score=match.score,
                why=match.why,
                price=product.price if product else None,
                category=product.category if product else "",
            )
        )
    return SearchOut(query=q, currency=catalog.catalog.currency, matches=out)


@router.get("/products/{product_id}")
def get_product(product_id: str, catalog: CatalogDep) -> ProductOut:
    """One product with the option groups it offers."""
    product = catalog.catalog.product(product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return product_out(catalog.catalog, product)


def product_out(catalog: Catalog, product: Product) -> ProductOut:
    """A product with its option groups, defaults marked."""
    groups = [
        OptionGroupOut(
            id=group.id,
            name=group.name,
            required=group.required,
            max=group.max,
            amounts=group.amounts,
            default=product.defaults.get(group.id),
            choices=[ChoiceOut.model_validate(choice) for choice in group.choices],
        )
        for group in catalog.groups_of(product)
    ]
    return ProductOut(
        id=product.id,
        name=product.name,
        price=product.price,
        category=product.category,
        brand=product.brand,
        size=product.size,
        stores=list(product.stores) if product.stores is not None else None,
        options=groups,
    )
