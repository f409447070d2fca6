"""Every field of the terms is evaluated by named code, or descriptive, or refused when set:
a new field without a classification fails here, and terms setting a field nothing acts on
are refused with a Chinese message naming the field."""

from __future__ import annotations

import importlib
import inspect
import types
import typing

import pytest
from pydantic import BaseModel

from benefits.terms.benefit_terms import BenefitTerms, TermsError, parse_terms
from benefits.terms.enforcement import FIELDS, Evaluated


def terms_models() -> list[type[BaseModel]]:
    """Every pydantic model reachable from ``BenefitTerms`` through its fields."""
    found: list[type[BaseModel]] = []

    def walk(annotation: object) -> None:
        for argument in typing.get_args(annotation):
            walk(argument)
        if (
            isinstance(annotation, type)
            and not isinstance(annotation, types.GenericAlias)
            and issubclass(annotation, BaseModel)
            and annotation not in found
        ):
            found.append(annotation)
            for info in annotation.model_fields.values():
                walk(info.annotation)

    walk(BenefitTerms)
    return found


def _resolve(path: str) -> object:
    """The module, or the attribute of a module, a dotted path names."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(_resolve(module), name)


def test_every_field_of_every_terms_model_is_classified():
    unclassified = [
        f"{model.__name__}.{name}"
        for model in terms_models()
        for name in model.model_fields
        if name not in FIELDS.get(model.__name__, {})
    ]
    assert unclassified == []


def test_the_registry_names_no_field_that_does_not_exist():
    models = {model.__name__: model for model in terms_models()}
    stale = [
        f"{model}.{name}"
        for model, fields in FIELDS.items()
        for name in fields
        if model not in models or name not in models[model].model_fields
    ]
    assert stale == []


def test_every_evaluator_exists_and_reads_its_field():
    wrong = []
    for model, fields in FIELDS.items():
        for name, use in fields.items():
            if not isinstance(use, Evaluated):
                continue
            target = _resolve(use.by)
            module = inspect.getmodule(target)
            source = inspect.getsource(module) if module else ""
            key = f"{model}.{name}"
            if name not in source:
                wrong.append(f"{key} → {use.by}")
    assert wrong == [], wrong


OPTIONS = [{"code": code, "label": code, "amount": 1} for code in ("a", "b", "c")]


def choice_terms(choose: int) -> dict:
    return {
        "summary": f"3选{choose}",
        "quota": {"unit": "times", "amount": "1"},
        "exclusive_choice": {"group": "g", "choose": choose, "options": OPTIONS},
    }


def test_terms_setting_a_field_nothing_evaluates_are_refused():
    # given 3选2, which the engine cannot count (any use counts as the choice made)
    with pytest.raises(TermsError) as refused:
        parse_terms(choice_terms(2))

    assert "exclusive_choice.choose：只支持“多选一”" in str(refused.value)
    assert "系统尚不执行此字段，不能设置" in str(refused.value)


def test_the_same_field_at_its_default_is_accepted():
    terms = parse_terms(choice_terms(1))

    assert terms.exclusive_choice is not None
    assert terms.exclusive_choice.choose == 1


def test_a_network_rule_whose_scope_is_not_its_lists_is_refused_at_load(tmp_path):
    # given a catalogue where one rule says listed_counties and its list says urban_districts
    import shutil

    from benefits.catalogue.files import CATALOGUE_DIR, CatalogueError, read_catalogue

    shutil.copytree(CATALOGUE_DIR, tmp_path / "catalogue", ignore=shutil.ignore_patterns("*.py"))
    product = tmp_path / "catalogue" / "products" / "xiaokang.rsyj.yaml"
    text = product.read_text()
    assert "          scope: urban_districts" in text
    product.write_text(
        text.replace("          scope: urban_districts", "          scope: listed_counties", 1)
    )

    with pytest.raises(CatalogueError) as refused:
        read_catalogue(tmp_path / "catalogue")

    assert any("scope：范围“listed_counties”与名单" in p for p in refused.value.problems)
