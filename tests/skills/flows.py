"""Conversations with the skill, each a function of the shop and a way to connect an Alexa user.

test_skill_flows.py runs every flow through skill.invoke; test_alexa_http.py runs the same flows
as signed HTTP POSTs to /alexa on the running app. Each flow checks what Alexa says and what the
database holds afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from orders import tables
from orders.carts import read_cart
from orders.dialog_pin import set_voice_pin
from orders.dialog_tables import DialogSession, UnmatchedPhrase
from orders.pickup import Actor, transition
from orders.staff import StaffIdentity, StaffRole
from orders.substitutes import offer_substitutes
from orders.tables import ActorKind, IdentityKind, OrderStatus
from tests.skills.shopping import REPO, Alexa, Shop

Connect = Callable[[str | None], Alexa]
"""An Alexa user on the transport under test, with this access token (None: not linked)."""
Flow = Callable[[Shop, Connect], None]

BENCH = REPO / "tests" / "fixtures" / "dialog" / "catalog" / "bench.yaml"
COFFEE_TIME = ZoneInfo("America/Los_Angeles")


def cart(shop: Shop, customer_id: int) -> list[str]:
    """The cart as "2 latte: grande, oat" strings."""
    with shop.sessions() as db:
        view = read_cart(db, customer_id, catalog=shop.catalog)
    return [
        f"{line.quantity} {line.product_id}"
        + (": " + ", ".join(o.choice for o in line.options) if line.options else "")
        for line in view.lines
    ]


def orders(shop: Shop, customer_id: int) -> list[tables.Order]:
    """The customer's orders, oldest first."""
    with shop.sessions() as db:
        query = select(tables.Order).where(tables.Order.customer_id == customer_id)
        return list(db.scalars(query.order_by(tables.Order.id)))


def conversations(shop: Shop) -> int:
    """How many dialogue sessions the database holds."""
    with shop.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(DialogSession)) or 0)


def linked(shop: Shop, connect: Connect, *, home: str | None = "cafe-main-street") -> Alexa:
    """A new customer who linked their account."""
    customer = shop.shopper(home=home)
    tokens = shop.link(customer)
    alexa = connect(tokens.access_token)
    alexa.customer_id = customer
    alexa.refresh_token = tokens.refresh_token
    return alexa


def later(shop: Shop, alexa: Alexa, **delta: float) -> None:
    """Time passes; Alexa refreshes the expired access token before the next request."""
    shop.clock.advance(**delta)
    assert alexa.refresh_token is not None
    alexa.access_token = shop.refresh(alexa.refresh_token)


def customer_of(alexa: Alexa) -> int:
    """The customer behind a linked test Alexa."""
    assert alexa.customer_id is not None
    return alexa.customer_id


def cart_filling(shop: Shop, connect: Connect) -> None:
    """Launch, add, add with options and a quantity, change it, remove, read back, clear."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    said = alexa.launch()
    assert said.speech == "Welcome to VoiceCart Coffee. What would you like?"
    assert not said.ends
    assert said.reprompt
    said = alexa.intent("AddItemsIntent", product="croissant")
    assert said.speech == "Added a Butter Croissant. Anything else?"
    assert said.card["type"] == "Simple"
    assert said.card["title"] == "VoiceCart Coffee"
    said = alexa.intent("AddItemsIntent", quantity="2", product="latte", option_milk="oat milk")
    assert said.speech.startswith("Added 2 Caffè Lattes with Oat Milk.")
    assert cart(shop, me) == ["1 butter-croissant: warmed", "2 latte: grande, oat, medium, hot"]
    said = alexa.intent("SetQuantityIntent", quantity="3")
    assert said.speech.startswith("OK, 3 Caffè Lattes with Oat Milk.")
    said = alexa.intent("RemoveItemsIntent", product="croissant")
    assert said.speech.startswith("Removed a Butter Croissant.")
    said = alexa.intent("ReadCartIntent")
    assert said.speech.startswith("You have 3 Caffè Lattes with Oat Milk. That's ")
    assert cart(shop, me) == ["3 latte: grande, oat, medium, hot"]
    said = alexa.intent("ClearCartIntent")
    assert said.speech.startswith("Done, your cart is empty.")
    assert cart(shop, me) == []
    assert orders(shop, me) == []


def latte_for_pickup(shop: Shop, connect: Connect) -> None:
    """ "A grande oat latte with an extra shot for pickup at 8:30", then check out and yes."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    said = alexa.intent(
        "AddItemsIntent", product="grande oat latte with an extra shot", pickup_time="08:30"
    )
    assert said.speech.startswith("Added a Grande Caffè Latte with Oat Milk and Double Shot.")
    assert cart(shop, me)[0].startswith("1 latte: grande, oat")
    said = alexa.intent("CheckoutIntent")
    assert "for pickup at Main Street at 8:30 AM. Shall I place it?" in said.speech
    confirm = said.directive("Dialog.ConfirmIntent")
    assert confirm is not None
    assert confirm["updatedIntent"]["name"] == "CheckoutIntent"
    assert said.reprompt == "Shall I place it?"
    said = alexa.yes()
    placed = orders(shop, me)
    assert len(placed) == 1
    order = placed[0]
    assert said.speech == (
        f"Done! Your order number is {order.id}. It will be ready at Main Street at 8:30 AM."
    )
    assert said.ends
    assert said.directives == []
    assert said.card["content"] == f"Order {order.id} · ready 8:30 AM"
    assert order.channel is tables.Channel.ALEXA
    assert order.requested_at is not None
    local = order.requested_at.astimezone(COFFEE_TIME)
    assert (local.hour, local.minute) == (8, 30)
    assert cart(shop, me) == []
    assert conversations(shop) == 0, "an ended session leaves no dialogue state behind"


def no_keeps_the_cart(shop: Shop, connect: Connect) -> None:
    """ "No" at "Shall I place it?" places nothing and keeps the cart."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    alexa.intent("AddItemsIntent", product="blueberry scone")
    said = alexa.intent("CheckoutIntent")
    assert said.directive("Dialog.ConfirmIntent") is not None
    said = alexa.no()
    assert said.speech.startswith("OK, I haven't placed it. Your cart is saved.")
    assert not said.ends
    assert orders(shop, me) == []
    assert cart(shop, me) == ["1 blueberry-scone"]
    said = alexa.yes()  # nothing is pending any more: AMAZON.YesIntent
    assert said.speech.startswith("There's nothing to confirm right now.")
    assert orders(shop, me) == []


def reorder_my_usual(shop: Shop, connect: Connect) -> None:
    """Two identical orders on two mornings make a usual; "my usual" reads it back, yes adds it."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    for day in range(2):
        alexa.new_session(f"amzn1.echo-api.session.usual-{day}")
        alexa.intent("AddItemsIntent", product="latte", option_milk="oat")
        alexa.intent("CheckoutIntent")
        assert alexa.yes().ends
        later(shop, alexa, days=1)
    alexa.intent("AddItemsIntent", product="croissant")  # another order at the same time
    alexa.intent("CheckoutIntent")
    alexa.yes()
    assert len(orders(shop, me)) == 3
    alexa.new_session("amzn1.echo-api.session.usual-now")
    said = alexa.intent("ReorderIntent", reorder="usual")
    assert said.speech == (
        "Your usual is a Caffè Latte with Oat Milk. Shall I add that to your cart?"
    )
    assert said.directive("Dialog.ConfirmIntent")["updatedIntent"]["name"] == "ReorderIntent"  # type: ignore[index]
    said = alexa.yes()
    assert said.speech.startswith("Added a Caffè Latte with Oat Milk to your cart.")
    assert cart(shop, me) == ["1 latte: grande, oat, medium, hot"]


def unknown_product(shop: Shop, connect: Connect) -> None:
    """A product the store does not sell: not found, or "did you mean" (yes adds, no skips)."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    said = alexa.intent("AddItemsIntent", product="pepperoni pizza")
    assert said.speech.startswith("Sorry, I couldn't find pepperoni pizza.")
    said = alexa.intent("AddItemsIntent", product="dragon fruit smoothie")
    assert (
        said.speech
        == "Sorry, I couldn't find dragon fruit smoothie. Did you mean Mango Dragonfruit Refresher?"
    )
    assert said.directives == []
    assert said.reprompt == "Did you mean Mango Dragonfruit Refresher?"
    said = alexa.no()
    assert said.speech.startswith("OK, I left it out.")
    assert cart(shop, me) == []
    alexa.intent("AddItemsIntent", product="dragon fruit smoothie")
    said = alexa.yes()
    assert said.speech.startswith("Added a ")
    assert [line.split(":")[0] for line in cart(shop, me)] == ["1 mango-refresher"]
    with shop.sessions() as db:
        phrases = list(db.scalars(select(UnmatchedPhrase.phrase).order_by(UnmatchedPhrase.id)))
    assert phrases == ["pepperoni pizza", "dragon fruit smoothie", "dragon fruit smoothie"]


def unlinked_account(shop: Shop, connect: Connect) -> None:
    """Without a linked account: how to link and a LinkAccount card; nothing is ordered."""
    alexa = connect(None)
    said = alexa.launch()
    assert "link your VoiceCart account" in said.speech
    assert said.card == {"type": "LinkAccount"}
    assert said.ends
    said = alexa.intent("AddItemsIntent", product="latte")
    assert said.card == {"type": "LinkAccount"}
    assert said.ends
    said = alexa.intent("AMAZON.HelpIntent")
    assert said.speech.startswith("With this skill you can order")
    assert said.ends
    said = alexa.intent("AMAZON.StopIntent")
    assert said.speech == "Goodbye!"
    assert said.ends
    stranger = connect("vca_not-a-token-we-issued")
    said = stranger.intent("CheckoutIntent")
    assert said.card == {"type": "LinkAccount"}
    with shop.sessions() as db:
        assert db.scalar(select(func.count()).select_from(tables.Order)) == 0
        assert (
            db.scalar(
                select(func.count())
                .select_from(tables.Identity)
                .where(tables.Identity.kind == IdentityKind.ALEXA_USER)
            )
            == 0
        )


def account_link_records_the_alexa_user(shop: Shop, connect: Connect) -> None:
    """The first request with an access token links the Alexa user id to the customer."""
    alexa = linked(shop, connect)
    alexa.launch()
    with shop.sessions() as db:
        identity = db.scalars(
            select(tables.Identity).where(tables.Identity.kind == IdentityKind.ALEXA_USER)
        ).one()
    assert (identity.customer_id, identity.value) == (customer_of(alexa), alexa.user_id)


def pickup_store_and_time(shop: Shop, connect: Connect) -> None:
    """No home store: "Which store?" and a closed time: "What time?", both elicited."""
    alexa = linked(shop, connect, home=None)
    me = customer_of(alexa)
    alexa.intent("AddItemsIntent", product="blueberry scone")
    said = alexa.intent("CheckoutIntent", pickup_time="21:00")
    assert said.speech.startswith("Which store would you like to pick it up from")
    assert said.directive("Dialog.ElicitSlot")["slotToElicit"] == "store"  # type: ignore[index]
    said = alexa.answer("main street")
    assert said.speech.startswith("Main Street is closed then. What time would you like")
    assert said.directive("Dialog.ElicitSlot")["slotToElicit"] == "pickup_time"  # type: ignore[index]
    said = alexa.answer("09:30")
    assert "for pickup at Main Street at 9:30 AM. Shall I place it?" in said.speech
    said = alexa.yes()
    assert said.ends
    assert len(orders(shop, me)) == 1
    assert orders(shop, me)[0].store_id == "cafe-main-street"


def voice_pin(shop: Shop, connect: Connect) -> None:
    """A voice PIN: yes asks for it; a wrong one is refused, the right one orders."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    with shop.sessions() as db:
        set_voice_pin(db, me, "4321", clock=shop.clock)
    alexa.intent("AddItemsIntent", product="croissant")
    alexa.intent("CheckoutIntent")
    said = alexa.yes()
    assert said.speech == "Please say your voice PIN."
    assert not said.ends
    said = alexa.intent("PinIntent", pin="1111")
    assert said.speech.startswith("That PIN didn't match.")
    assert orders(shop, me) == []
    said = alexa.intent("PinIntent", pin="4321")
    assert said.speech.startswith("Done! Your order number is")
    assert said.ends
    assert len(orders(shop, me)) == 1


def order_status(shop: Shop, connect: Connect) -> None:
    """Opening the skill with an order in progress says its status; so does the intent."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    said = alexa.intent("OrderStatusIntent")
    assert said.speech.startswith("You don't have any orders yet.")
    alexa.intent("AddItemsIntent", product="croissant")
    alexa.intent("CheckoutIntent")
    alexa.yes()
    order = orders(shop, me)[0]
    with shop.sessions() as db:
        staff = Actor(ActorKind.STAFF, "barista")
        for status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
            transition(db, order.id, status, actor=staff, clock=shop.clock)
    alexa.new_session("amzn1.echo-api.session.later")
    said = alexa.launch()
    assert said.speech == (
        f"Welcome back to VoiceCart Coffee. Order {order.id} is ready for pickup. "
        "What would you like?"
    )
    said = alexa.intent("OrderStatusIntent")
    assert said.speech.startswith(f"Order {order.id} is ready for pickup.")


def out_of_stock_by_voice(shop: Shop, connect: Connect) -> None:
    """The store runs out of the croissant: opening the skill asks; naming a substitute takes it."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    alexa.intent("AddItemsIntent", product="croissant")
    alexa.intent("CheckoutIntent")
    alexa.yes()
    order = orders(shop, me)[0]
    barista = StaffIdentity(1, "b@example.com", "B", {order.store_id: StaffRole.BARISTA}, "t")
    with shop.sessions() as db:
        line = db.scalars(select(tables.OrderLine).where(tables.OrderLine.order_id == order.id))
        offered = ["chocolate-croissant", "almond-croissant"]
        offer_substitutes(
            db, barista, order.id, line.one().id, offered, catalog=shop.catalog, clock=shop.clock
        )
    alexa.new_session("amzn1.echo-api.session.later")
    said = alexa.launch()
    assert said.speech.startswith(f"Welcome back to VoiceCart Coffee. Order {order.id} is placed")
    assert said.speech.endswith(
        f"Sorry, Main Street is out of the Butter Croissant for order {order.id}. Would you "
        "like Chocolate Croissant or Almond Croissant instead? If not, I'll cancel the order."
    )
    assert not said.ends
    said = alexa.intent("AddItemsIntent", product="almond croissant")
    assert said.speech.startswith(
        f"OK, order {order.id} will have Almond Croissant instead of the Butter Croissant."
    )
    with shop.sessions() as db:
        line = db.scalars(select(tables.OrderLine).where(tables.OrderLine.order_id == order.id))
        assert line.one().product_id == "almond-croissant"


def store_info_help_and_leaving(shop: Shop, connect: Connect) -> None:
    """Store info, help, fallback, and the three ways out (cancel drops the open question)."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    said = alexa.intent("StoreInfoIntent", store="voicecart coffee harbor avenue")
    assert said.speech.startswith("Harbor Avenue is at 1660 Harbor Avenue SW")
    said = alexa.intent("AMAZON.HelpIntent")
    assert said.speech.startswith("You can say things like")
    assert not said.ends
    said = alexa.intent("AMAZON.FallbackIntent")
    assert said.speech.startswith("Sorry, I didn't get that.")
    assert not said.ends
    alexa.intent("AddItemsIntent", product="croissant")
    alexa.intent("CheckoutIntent")
    said = alexa.intent("AMAZON.CancelIntent")
    assert said.speech == "OK, I haven't placed it. Your cart is saved. Goodbye!"
    assert said.ends
    assert orders(shop, me) == []
    assert cart(shop, me) == ["1 butter-croissant: warmed"]
    alexa.new_session("amzn1.echo-api.session.stop")
    said = alexa.intent("AMAZON.StopIntent")
    assert said.speech == "Goodbye! Your cart is saved."
    assert said.ends
    alexa.new_session("amzn1.echo-api.session.home")
    said = alexa.intent("AMAZON.NavigateHomeIntent")
    assert said.ends
    assert conversations(shop) == 0


def session_end_cleans_up(shop: Shop, connect: Connect) -> None:
    """SessionEndedRequest deletes the conversation; the cart stays; a new session starts fresh."""
    alexa = linked(shop, connect)
    me = customer_of(alexa)
    alexa.intent("AddItemsIntent", product="croissant")
    alexa.intent("CheckoutIntent")
    assert conversations(shop) == 1
    said = alexa.end_session("EXCEEDED_MAX_REPROMPTS")
    assert said.response.get("outputSpeech") is None
    assert conversations(shop) == 0
    alexa.new_session("amzn1.echo-api.session.next")
    said = alexa.intent("AMAZON.YesIntent")
    assert said.speech.startswith("There's nothing to confirm right now.")
    assert orders(shop, me) == []
    assert cart(shop, me) == ["1 butter-croissant: warmed"]


def size_and_which_one(shop: Shop, connect: Connect) -> None:
    """(Bench catalog) "What size?" elicits the size slot; "which muffin?" the product."""
    alexa = linked(shop, connect, home="main")
    me = customer_of(alexa)
    said = alexa.intent("AddItemsIntent", product="drip coffee")
    assert said.speech == "What size for the Drip Coffee? Small, Medium or Large."
    elicit = said.directive("Dialog.ElicitSlot")
    assert elicit is not None
    assert elicit["slotToElicit"] == "option_size"
    said = alexa.answer("large")
    assert said.speech.startswith("Added a Large Drip Coffee.")
    said = alexa.intent("AddItemsIntent", product="muffin")
    assert said.speech == "Blueberry Muffin or Chocolate Muffin?"
    assert said.directive("Dialog.ElicitSlot")["slotToElicit"] == "product"  # type: ignore[index]
    said = alexa.answer("the second one")
    assert said.speech.startswith("Added a Chocolate Muffin.")
    alexa.intent("AddItemsIntent", product="muffin")
    said = alexa.answer("blueberry muffin")
    assert said.speech.startswith("Added a Blueberry Muffin.")
    assert cart(shop, me) == ["1 drip: large", "1 chocolate-muffin", "1 blueberry-muffin"]


FLOWS: dict[str, Flow] = {
    "cart filling": cart_filling,
    "grande oat latte for pickup at 8:30": latte_for_pickup,
    "no keeps the cart": no_keeps_the_cart,
    "reorder my usual": reorder_my_usual,
    "unknown product": unknown_product,
    "unlinked account": unlinked_account,
    "linking records the Alexa user": account_link_records_the_alexa_user,
    "pickup store and time": pickup_store_and_time,
    "voice PIN": voice_pin,
    "order status": order_status,
    "out of stock by voice": out_of_stock_by_voice,
    "store info, help, leaving": store_info_help_and_leaving,
    "session end cleans up": session_end_cleans_up,
}
"""Flows on the coffee demo catalog."""
BENCH_FLOWS: dict[str, Flow] = {"size and which one": size_and_which_one}
"""Flows on the dialogue tests' catalog (a required size, two muffins)."""


def catalog_of(flow_name: str) -> Path | None:
    """The catalog file a flow needs (None: the coffee demo)."""
    return BENCH if flow_name in BENCH_FLOWS else None
