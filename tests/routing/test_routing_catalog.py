"""`gomodel.routing.catalog.ModelCatalog`: which provider serves a model, and ``GET /v1/models``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs
import pytest

from gomodel.routing import catalog as catalog_module
from gomodel.routing.catalog import ModelCatalog, Route


@attrs.frozen
class FakeProvider:
    name: str
    configured_models: tuple[str, ...] = ()


Mode = Literal["fallback", "allowlist"]
MakeCatalog = Callable[..., ModelCatalog[FakeProvider]]


@pytest.fixture
def make_catalog() -> MakeCatalog:
    """``make_catalog(name=(models...), ..., mode=...)``: providers in keyword (declaration) order."""

    def make(mode: Mode = "fallback", **providers: tuple[str, ...]) -> ModelCatalog[FakeProvider]:
        return ModelCatalog([FakeProvider(name, models) for name, models in providers.items()], mode)

    return make


def route_of(catalog: ModelCatalog[FakeProvider], model: str) -> tuple[str, str] | None:
    route = catalog.resolve(model)
    return None if route is None else (route.provider.name, route.model)


# --- resolution -----------------------------------------------------------------------------------


def test_bare_model_goes_to_the_first_provider_that_serves_it(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o", "gpt-4o-mini"), backup=("gpt-4o", "o3"))

    assert route_of(catalog, "gpt-4o") == ("primary", "gpt-4o")
    assert route_of(catalog, "o3") == ("backup", "o3")


def test_declaration_order_decides_not_the_name(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(zeta=("m",), alpha=("m",))

    assert route_of(catalog, "m") == ("zeta", "m")


def test_provider_prefix_picks_the_provider_explicitly(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o",), backup=("gpt-4o",))

    assert route_of(catalog, "backup/gpt-4o") == ("backup", "gpt-4o")


def test_route_carries_the_provider_object(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o",))

    route = catalog.resolve("primary/gpt-4o")

    assert route == Route(catalog.providers[0], "gpt-4o")


def test_prefix_is_split_on_the_first_slash_only(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(openrouter=("openai/gpt-4o", "anthropic/claude-sonnet-4"))

    assert route_of(catalog, "openrouter/openai/gpt-4o") == ("openrouter", "openai/gpt-4o")


def test_slashed_model_id_resolves_bare_when_its_prefix_is_no_provider(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(openrouter=("openai/gpt-4o",), vllm=("meta-llama/Llama-3.1-8B-Instruct",))

    assert route_of(catalog, "openai/gpt-4o") == ("openrouter", "openai/gpt-4o")
    assert route_of(catalog, "meta-llama/Llama-3.1-8B-Instruct") == (
        "vllm",
        "meta-llama/Llama-3.1-8B-Instruct",
    )


@pytest.mark.parametrize(
    "model",
    ["gpt-5", "primary/gpt-5", "nobody/gpt-4o", "primary/", "/gpt-4o", "", "primary"],
)
def test_unknown_models_resolve_to_none(make_catalog: MakeCatalog, model: str) -> None:
    catalog = make_catalog(primary=("gpt-4o",))

    assert catalog.resolve(model) is None


def test_explicit_prefix_does_not_fall_through_to_another_provider(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o",), backup=("o3",))

    assert catalog.resolve("primary/o3") is None


# --- fallback mode --------------------------------------------------------------------------------


def test_configured_models_serve_before_any_fetch(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o",))

    assert catalog.models_of("primary") == ("gpt-4o",)


def test_fetched_list_replaces_configured_models(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o",))

    catalog.update("primary", ["gpt-4.1", "o3"])

    assert catalog.models_of("primary") == ("gpt-4.1", "o3")
    assert route_of(catalog, "o3") == ("primary", "o3")
    assert catalog.resolve("gpt-4o") is None


@pytest.mark.parametrize("fetched", [None, []])
def test_failed_or_empty_fetch_falls_back_to_configured(
    make_catalog: MakeCatalog, fetched: list[str] | None
) -> None:
    catalog = make_catalog(primary=("gpt-4o",))

    catalog.update("primary", fetched)

    assert catalog.models_of("primary") == ("gpt-4o",)
    assert route_of(catalog, "gpt-4o") == ("primary", "gpt-4o")


def test_fetched_duplicates_are_collapsed_in_order(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=())

    catalog.update("primary", ["b", "a", "b", "c", "a"])

    assert catalog.models_of("primary") == ("b", "a", "c")


def test_update_of_one_provider_keeps_the_others(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o",), backup=("o3",))

    catalog.update("primary", ["gpt-4.1"])

    assert route_of(catalog, "o3") == ("backup", "o3")


def test_fetched_model_moves_first_match_between_providers(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=(), backup=("shared",))
    assert route_of(catalog, "shared") == ("backup", "shared")

    catalog.update("primary", ["shared"])

    assert route_of(catalog, "shared") == ("primary", "shared")


def test_unknown_provider_has_no_models(make_catalog: MakeCatalog) -> None:
    assert make_catalog(primary=("m",)).models_of("nobody") == ()


# --- allowlist mode -------------------------------------------------------------------------------


def test_allowlist_ignores_fetched_models(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(mode="allowlist", primary=("gpt-4o",))

    catalog.update("primary", ["gpt-4o", "o3", "dall-e-3"])

    assert catalog.models_of("primary") == ("gpt-4o",)
    assert catalog.resolve("o3") is None


def test_mode_and_providers_are_exposed(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(mode="allowlist", a=("x",), b=("y",))

    assert catalog.mode == "allowlist"
    assert [p.name for p in catalog.providers] == ["a", "b"]


# --- openai_list ----------------------------------------------------------------------------------


def test_openai_list_shape(make_catalog: MakeCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_module.time, "time", lambda: 1_754_822_563.9)
    catalog = make_catalog(primary=("gpt-4o",), local=("llama3",))
    catalog.update("primary", ["gpt-4o", "o3"])

    assert catalog.openai_list() == {
        "object": "list",
        "data": [
            {"id": "gpt-4o", "object": "model", "created": 1_754_822_563, "owned_by": "primary"},
            {"id": "o3", "object": "model", "created": 1_754_822_563, "owned_by": "primary"},
            {"id": "llama3", "object": "model", "created": 0, "owned_by": "local"},
        ],
    }


def test_openai_list_qualifies_duplicates_with_the_provider_name(make_catalog: MakeCatalog) -> None:
    catalog = make_catalog(primary=("gpt-4o", "o3"), backup=("gpt-4o",))

    listed = [(m["id"], m["owned_by"]) for m in catalog.openai_list()["data"]]

    assert listed == [("gpt-4o", "primary"), ("o3", "primary"), ("backup/gpt-4o", "backup")]


def test_openai_list_is_empty_without_models(make_catalog: MakeCatalog) -> None:
    assert make_catalog(primary=()).openai_list() == {"object": "list", "data": []}


@pytest.mark.parametrize(
    "providers",
    [
        pytest.param({"primary": ("gpt-4o", "o3"), "backup": ("gpt-4o",)}, id="duplicates"),
        pytest.param({"openrouter": ("openai/gpt-4o",), "local": ("llama3",)}, id="slashed ids"),
    ],
)
def test_every_listed_id_resolves_to_its_owner(
    make_catalog: MakeCatalog, providers: dict[str, tuple[str, ...]]
) -> None:
    catalog = make_catalog(**providers)

    for entry in catalog.openai_list()["data"]:
        route = route_of(catalog, entry["id"])
        assert route is not None, entry
        assert route[0] == entry["owned_by"], entry


@pytest.mark.parametrize(
    "openai_models",
    [pytest.param(("gpt-4o",), id="openai serves it too"), pytest.param(("gpt-4.1",), id="openai lacks it")],
)
def test_listed_slashed_id_resolves_to_its_owner_when_its_prefix_is_a_provider(
    make_catalog: MakeCatalog, openai_models: tuple[str, ...]
) -> None:
    catalog = make_catalog(openai=openai_models, openrouter=("openai/gpt-4o",))

    for entry in catalog.openai_list()["data"]:
        assert route_of(catalog, entry["id"]) == (
            entry["owned_by"],
            entry["id"].removeprefix(f"{entry['owned_by']}/"),
        )


def test_resolved_routes_follow_every_update(make_catalog: MakeCatalog) -> None:
    """Routes are remembered per requested id; a refresh must not leave a stale one behind."""
    catalog = make_catalog(primary=("gpt-4o",), backup=("o3",))
    assert route_of(catalog, "o3") == ("backup", "o3")
    assert route_of(catalog, "o4") is None

    catalog.update("primary", ["o3", "o4"])

    assert route_of(catalog, "o3") == ("primary", "o3")
    assert route_of(catalog, "o4") == ("primary", "o4")
    assert catalog.resolve("o3") is catalog.resolve("o3")
