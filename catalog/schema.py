"""Catalog format version 1: parsed YAML/JSON data -> a validated Catalog, every problem found."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation

from catalog.fields import FieldPath, Reader, describe, suggest
from catalog.hours import parse_hours
from catalog.model import Catalog, Choice, OptionGroup, Product, Store

FORMAT_VERSION = 1
TOP_KEYS = ("format", "currency", "store", "stores", "option_groups", "prep_minutes", "products")
STORE_KEYS = ("id", "name", "timezone", "address", "phone", "hours", "pickup", "tax_rate")
GROUP_KEYS = ("id", "name", "required", "max", "amounts", "choices")
CHOICE_KEYS = ("id", "name", "aliases", "price")
PRODUCT_KEYS = (
    "id", "name", "brand", "size", "price", "category",
    "aliases", "tags", "options", "defaults", "stores",
)  # fmt: skip
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")


def build_catalog(data: object, reader: Reader) -> Catalog | None:
    """Validate format-1 data; None when the reader recorded any problem."""
    top = reader.mapping(data, (), allowed=TOP_KEYS, required=("format", "currency", "products"))
    if top is None:
        return None
    version = top.get("format")
    if version is not None and (type(version) is not int or version != FORMAT_VERSION):
        reader.add(("format",), f"unsupported format {version!r}: this VoiceCart reads format 1")
        return None
    currency = reader.text(top, (), "currency")
    if currency and not CURRENCY_PATTERN.fullmatch(currency):
        reader.add(("currency",), f"{currency!r} is not an ISO 4217 code like USD or EUR")
    stores = _read_stores(top, reader)
    groups = _read_groups(top, reader)
    products = _read_products(top, reader, groups, {s.id for s in stores})
    prep = _read_prep_minutes(top, reader, {p.category for p in products.values()})
    if reader.problems:
        return None
    return Catalog(
        currency=currency,
        stores=tuple(stores),
        option_groups=groups,
        products=products,
        prep_minutes=prep,
        source=reader.source,
    )


def _read_id(obj: Mapping[str, object], path: FieldPath, reader: Reader) -> str | None:
    """The `id` field, or None when it is missing (already reported) or invalid."""
    value = obj.get("id")
    return None if value is None else reader.ident(value, (*path, "id"))


def _unique(
    seen: set[str], item_id: str | None, path: FieldPath, reader: Reader, what: str
) -> bool:
    """Register an id; a duplicate is a problem. False when the id is missing or taken."""
    if item_id is None:
        return False
    if item_id in seen:
        reader.add(path, f"duplicate {what} id {item_id!r}")
        return False
    seen.add(item_id)
    return True


def _read_stores(top: Mapping[str, object], reader: Reader) -> list[Store]:
    """`store:` (one) or `stores:` (a list); exactly one of them."""
    if "store" in top and "stores" in top:
        reader.add(("stores",), "give either `store` (one) or `stores` (a list), not both")
        return []
    if "store" in top:
        raw: list[tuple[object, FieldPath]] = [(top["store"], ("store",))]
    elif "stores" in top:
        items = reader.items(top, (), "stores")
        raw = [(item, ("stores", i)) for i, item in enumerate(items)]
        if not items and isinstance(top["stores"], list):
            reader.add(("stores",), "must list at least one store")
    else:
        reader.add(("store",), "missing required field (`store`, or a `stores` list)")
        return []
    seen: set[str] = set()
    stores = []
    for value, path in raw:
        store = _read_store(value, path, reader)
        if store is not None and _unique(seen, store.id, (*path, "id"), reader, "store"):
            stores.append(store)
    return stores


def _read_store(value: object, path: FieldPath, reader: Reader) -> Store | None:
    """One store."""
    obj = reader.mapping(value, path, allowed=STORE_KEYS, required=("id", "name"))
    if obj is None:
        return None
    store_id = _read_id(obj, path, reader)
    timezone = reader.text(obj, path, "timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = suggest(timezone, zoneinfo.available_timezones())
        reader.add((*path, "timezone"), f"unknown time zone {timezone!r}{hint}")
    store = Store(
        id=store_id or "",
        name=reader.text(obj, path, "name"),
        timezone=timezone,
        address=reader.text(obj, path, "address"),
        phone=reader.text(obj, path, "phone"),
        hours=parse_hours(obj.get("hours"), reader, (*path, "hours")),
        pickup=reader.boolean(obj, path, "pickup", default=False),
        tax_rate=_read_tax_rate(obj.get("tax_rate"), reader, (*path, "tax_rate")),
    )
    return store if store_id else None


def _read_tax_rate(value: object, reader: Reader, path: FieldPath) -> Decimal:
    """A fraction 0 <= rate < 1 (0.0875 for 8.75 %)."""
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        reader.add(path, f"must be a decimal fraction like 0.0875, got {describe(value)}")
        return Decimal(0)
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        reader.add(path, f"must be a decimal fraction like 0.0875, got {describe(value)}")
        return Decimal(0)
    if not rate.is_finite() or not Decimal(0) <= rate < 1:
        hint = f" (for {rate} % write {rate / 100})" if rate.is_finite() and 1 <= rate < 100 else ""
        reader.add(path, f"must be a fraction from 0 up to (not including) 1{hint}")
        return Decimal(0)
    return rate


def _read_groups(top: Mapping[str, object], reader: Reader) -> dict[str, OptionGroup]:
    """The option groups by id (groups with problems are kept so references still resolve)."""
    groups: dict[str, OptionGroup] = {}
    for index, value in enumerate(reader.items(top, (), "option_groups")):
        path: FieldPath = ("option_groups", index)
        obj = reader.mapping(value, path, allowed=GROUP_KEYS, required=("id", "name", "choices"))
        if obj is None:
            continue
        group_id = _read_id(obj, path, reader)
        choices = _read_choices(obj, path, reader)
        maximum = reader.integer(obj, path, "max", default=1, minimum=1)
        if choices and maximum > len(choices):
            reader.add((*path, "max"), f"is {maximum} but the group has {len(choices)} choices")
        group = OptionGroup(
            id=group_id or "",
            name=reader.text(obj, path, "name"),
            choices=choices,
            required=reader.boolean(obj, path, "required", default=False),
            max=maximum,
            amounts=reader.boolean(obj, path, "amounts", default=False),
        )
        if group_id in groups:
            reader.add((*path, "id"), f"duplicate option group id {group_id!r}")
        elif group_id is not None:
            groups[group_id] = group
    return groups


def _read_choices(obj: Mapping[str, object], path: FieldPath, reader: Reader) -> tuple[Choice, ...]:
    """A group's choices; ids unique within the group; price deltas may be negative."""
    items = reader.items(obj, path, "choices")
    if not items and isinstance(obj.get("choices"), list):
        reader.add((*path, "choices"), "must list at least one choice")
    seen: set[str] = set()
    choices = []
    for index, value in enumerate(items):
        cpath: FieldPath = (*path, "choices", index)
        cobj = reader.mapping(value, cpath, allowed=CHOICE_KEYS, required=("id", "name"))
        if cobj is None:
            continue
        choice_id = _read_id(cobj, cpath, reader)
        choice = Choice(
            id=choice_id or "",
            name=reader.text(cobj, cpath, "name"),
            aliases=reader.texts(cobj, cpath, "aliases"),
            price_delta=reader.integer(cobj, cpath, "price", default=0, unit="cents"),
        )
        if _unique(seen, choice_id, (*cpath, "id"), reader, "choice"):
            choices.append(choice)
    return tuple(choices)


def _read_products(
    top: Mapping[str, object],
    reader: Reader,
    groups: Mapping[str, OptionGroup],
    store_ids: set[str],
) -> dict[str, Product]:
    """The products by id, with option, default and store references checked."""
    products: dict[str, Product] = {}
    items = reader.items(top, (), "products")
    if not items and isinstance(top.get("products"), list):
        reader.add(("products",), "must list at least one product")
    for index, value in enumerate(items):
        path: FieldPath = ("products", index)
        product = _read_product(value, path, reader, groups, store_ids)
        if product is None:
            continue
        if product.id in products:
            reader.add((*path, "id"), f"duplicate product id {product.id!r}")
        else:
            products[product.id] = product
    return products


def _read_product(
    value: object,
    path: FieldPath,
    reader: Reader,
    groups: Mapping[str, OptionGroup],
    store_ids: set[str],
) -> Product | None:
    """One product."""
    obj = reader.mapping(value, path, allowed=PRODUCT_KEYS, required=("id", "name", "price"))
    if obj is None:
        return None
    product_id = _read_id(obj, path, reader)
    options = _read_refs(obj, path, "options", reader, known=groups.keys(), what="option group")
    price = reader.integer(obj, path, "price", default=0, minimum=0, unit="cents")
    _check_price_floor(price, options, groups, reader, (*path, "price"))
    stores = None
    if obj.get("stores") is not None:
        stores = _read_refs(obj, path, "stores", reader, known=store_ids, what="store")
        if obj["stores"] == []:
            reader.add((*path, "stores"), "is empty: the product would be sold nowhere")
    product = Product(
        id=product_id or "",
        name=reader.text(obj, path, "name"),
        price=price,
        category=reader.text(obj, path, "category"),
        brand=reader.text(obj, path, "brand"),
        size=reader.text(obj, path, "size"),
        aliases=reader.texts(obj, path, "aliases"),
        tags=reader.texts(obj, path, "tags"),
        options=options,
        defaults=_read_defaults(obj.get("defaults"), options, groups, reader, (*path, "defaults")),
        stores=stores,
    )
    return product if product_id else None


def _read_refs(
    obj: Mapping[str, object],
    path: FieldPath,
    key: str,
    reader: Reader,
    *,
    known: Collection[str],
    what: str,
) -> tuple[str, ...]:
    """A list of ids that must each name a known thing, without repeats."""
    result: list[str] = []
    for index, item in enumerate(reader.items(obj, path, key)):
        ref = reader.ident(item, (*path, key, index))
        if ref is None:
            continue
        if ref not in known:
            hint = suggest(ref, known)
            reader.add((*path, key, index), f"unknown {what} {ref!r}{hint}")
        elif ref in result:
            reader.add((*path, key, index), f"{what} {ref!r} is listed twice")
        else:
            result.append(ref)
    return tuple(result)


def _read_defaults(
    value: object,
    options: tuple[str, ...],
    groups: Mapping[str, OptionGroup],
    reader: Reader,
    path: FieldPath,
) -> dict[str, str]:
    """{group id: choice id}; the group must be one the product offers, the choice in it."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.add(path, f"must be a mapping of option group: choice id, got {describe(value)}")
        return {}
    defaults: dict[str, str] = {}
    for key, raw in value.items():
        group_id = str(key)
        group = groups.get(group_id)
        choice_id = reader.ident(raw, (*path, group_id))
        if group is None:
            hint = suggest(group_id, options)
            reader.add((*path, group_id), f"unknown option group {group_id!r}{hint}")
        elif group_id not in options:
            offered = ", ".join(options) or "none"
            reader.add(
                (*path, group_id), f"the product does not offer {group_id!r} (options: {offered})"
            )
        elif choice_id is not None and group.choice(choice_id) is None:
            hint = suggest(choice_id, [c.id for c in group.choices])
            reader.add(
                (*path, group_id), f"{choice_id!r} is not a choice of group {group_id!r}{hint}"
            )
        elif choice_id is not None:
            defaults[group_id] = choice_id
    return defaults


def _check_price_floor(
    price: int,
    options: tuple[str, ...],
    groups: Mapping[str, OptionGroup],
    reader: Reader,
    path: FieldPath,
) -> None:
    """Negative choice prices must not be able to take the product below zero."""
    lowest = 0
    for group_id in options:
        group = groups[group_id]
        discounts = sorted(c.price_delta for c in group.choices if c.price_delta < 0)
        lowest += sum(discounts[: group.max])
    if price >= 0 and price + lowest < 0:
        reader.add(path, f"{price} plus the cheapest choices ({lowest}) would be below zero")


def _read_prep_minutes(
    top: Mapping[str, object], reader: Reader, categories: set[str]
) -> dict[str, int]:
    """{category: minutes}, with a `default` key; a category no product has is a problem."""
    value = top.get("prep_minutes")
    if value is None:
        return {}
    allowed = sorted({"default", *categories})
    if not isinstance(value, dict):
        reader.add(
            ("prep_minutes",), f"must be a mapping of category: minutes, got {describe(value)}"
        )
        return {}
    prep: dict[str, int] = {}
    for key in value:
        if key not in allowed:
            hint = suggest(str(key), allowed)
            reader.add(("prep_minutes", str(key)), f"no product has category {key!r}{hint}")
            continue
        prep[key] = reader.integer(value, ("prep_minutes",), key, default=0, minimum=0)
    return prep
