"""Reading and validating the catalogue files in ``benefits/catalogue/``.

Pure Python (no database): ``read_catalogue()`` parses every YAML file, validates each
benefit's terms and every cross-reference (vendors, services, prerequisites, coverage lists)
and either returns the whole catalogue or raises ``CatalogueError`` listing every problem,
so a broken file never half-loads. Run ``python -m benefits.catalogue.files`` to check the
files without touching a database.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from benefits.terms.benefit_terms import BenefitTerms, TermsError, parse_terms
from benefits.terms.rules import NetworkRule
from benefits.terms.vocabulary import CODE

CATALOGUE_DIR = Path(__file__).resolve().parent  # the YAML files live beside this module


class CatalogueError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InsurerData(FileModel):
    code: str
    name: str
    short_name: str
    hotline: str = ""


class VendorData(FileModel):
    code: str
    name: str
    insurer: str | None = None
    hotline: str = ""


class ServiceData(FileModel):
    code: str
    name: str
    category: str


class CoverageListData(FileModel):
    code: str
    title: str
    kind: Literal["city", "hospital", "pharmacy", "drug", "device", "disease"]
    source: str
    scope: Literal["urban_districts", "whole_prefecture", "listed_counties"] | None = None
    # Lists the handbook only shows as a QR code are created empty, for import later.
    printed: bool = True

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError(f"名单代码“{value}”格式不正确")
        return value


class BenefitData(FileModel):
    code: str
    name: str
    vendor: str
    source_section: Annotated[str, Field(min_length=1)]
    clause_text: Annotated[str, Field(min_length=1)]
    terms: dict[str, Any]
    components: list[BenefitData] = []

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError(f"权益代码“{value}”格式不正确")
        return value


class ProductData(FileModel):
    code: str
    name: str
    insurer: str
    seed: str
    handbook_title: str


class ProductFile(FileModel):
    product: ProductData
    coverage_lists: list[CoverageListData] = []
    benefits: list[BenefitData]


class PartiesFile(FileModel):
    insurers: list[InsurerData]
    vendors: list[VendorData]


class ServicesFile(FileModel):
    services: list[ServiceData]


class ValidBenefit(FileModel):
    """A benefit as it will be stored: flattened, with parent code and parsed terms."""

    code: str
    product: str
    service: str
    parent: str | None
    position: int
    name: str
    vendor: str
    source_file: str
    source_section: str
    clause_text: str
    terms: BenefitTerms


class Catalogue(FileModel):
    insurers: list[InsurerData]
    vendors: list[VendorData]
    services: list[ServiceData]
    products: list[ProductData]
    coverage_lists: list[tuple[str, CoverageListData]]  # (product code, list)
    benefits: list[ValidBenefit]


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}：YAML 格式错误：{exc}")
        return None


def _validate(model: type[FileModel], data: Any, where: str, problems: list[str]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            location = ".".join(str(p) for p in error["loc"])
            problems.append(f"{where}：{location}：{error['msg']}")
        return None


def _flatten(
    product: ProductData,
    items: list[BenefitData],
    parent: str | None,
    problems: list[str],
) -> list[ValidBenefit]:
    flat: list[ValidBenefit] = []
    prefix = f"{parent or product.code}."
    for position, item in enumerate(items):
        if not item.code.startswith(prefix) or item.code == prefix.rstrip("."):
            problems.append(f"{item.code}：代码必须以“{prefix}”开头")
            continue
        try:
            terms = parse_terms(item.terms)
        except TermsError as exc:
            problems.extend(f"{item.code}：{message}" for message in exc.messages)
            continue
        flat.append(
            ValidBenefit(
                code=item.code,
                product=product.code,
                service=item.code[len(product.code) + 1 :],
                parent=parent,
                position=position,
                name=item.name,
                vendor=item.vendor,
                source_file=product.seed,
                source_section=item.source_section,
                clause_text=item.clause_text.strip(),
                terms=terms,
            )
        )
        flat.extend(_flatten(product, item.components, item.code, problems))
    return flat


def _scope_disagreements(
    benefits: list[ValidBenefit], coverage_lists: list[tuple[str, CoverageListData]]
) -> list[str]:
    """A network rule's ``scope`` must be its list's: the list's scope is what the coverage
    check applies, so a rule saying otherwise would promise what is not checked."""
    scopes = {cl.code: cl.scope for _, cl in coverage_lists}
    problems = []
    for benefit in benefits:
        for index, rule in enumerate(benefit.terms.rules):
            if not isinstance(rule, NetworkRule) or not rule.scope or not rule.coverage_list:
                continue
            listed = scopes.get(rule.coverage_list)
            if listed != rule.scope:
                problems.append(
                    f"{benefit.code}：rules.{index}.scope：范围“{rule.scope}”与名单"
                    f"“{rule.coverage_list}”的范围“{listed or '未设'}”不一致（核对时按名单的范围）"
                )
    return problems


def read_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """Parse and cross-check every catalogue file; raise ``CatalogueError`` on any problem."""
    problems: list[str] = []
    parties = _validate(
        PartiesFile, _load_yaml(directory / "parties.yaml", problems), "parties.yaml", problems
    )
    services = _validate(
        ServicesFile, _load_yaml(directory / "services.yaml", problems), "services.yaml", problems
    )
    product_files: list[ProductFile] = []
    for path in sorted(directory.glob("products/*.yaml")):
        parsed = _validate(ProductFile, _load_yaml(path, problems), path.name, problems)
        if parsed:
            product_files.append(parsed)
    if problems or parties is None or services is None:
        raise CatalogueError(problems)

    insurer_codes = {insurer.code for insurer in parties.insurers}
    vendor_codes = {vendor.code for vendor in parties.vendors}
    service_codes = {service.code for service in services.services}
    for vendor in parties.vendors:
        if vendor.insurer and vendor.insurer not in insurer_codes:
            problems.append(f"服务商 {vendor.code}：保险公司“{vendor.insurer}”不存在")

    benefits: list[ValidBenefit] = []
    coverage_lists: list[tuple[str, CoverageListData]] = []
    for product_file in product_files:
        product = product_file.product
        if product.insurer not in insurer_codes:
            problems.append(f"产品 {product.code}：保险公司“{product.insurer}”不存在")
        coverage_lists.extend((product.code, cl) for cl in product_file.coverage_lists)
        benefits.extend(_flatten(product, product_file.benefits, None, problems))

    all_codes = [b.code for b in benefits]
    duplicated = {code for code in all_codes if all_codes.count(code) > 1}
    problems.extend(f"{code}：权益代码重复" for code in sorted(duplicated))
    list_codes = [code for _, cl in coverage_lists for code in [cl.code]]
    problems.extend(
        f"名单 {code}：代码重复"
        for code in sorted({c for c in list_codes if list_codes.count(c) > 1})
    )
    known_lists = set(list_codes)
    known_benefits = set(all_codes)
    problems.extend(_scope_disagreements(benefits, coverage_lists))
    for benefit in benefits:
        if benefit.vendor not in vendor_codes:
            problems.append(f"{benefit.code}：服务商“{benefit.vendor}”不存在")
        if benefit.service not in service_codes:
            problems.append(f"{benefit.code}：服务项目“{benefit.service}”未在 services.yaml 中登记")
        for code in benefit.terms.coverage_lists:
            if code not in known_lists:
                problems.append(f"{benefit.code}：名单“{code}”未在任何产品文件中声明")
        for prerequisite in benefit.terms.prerequisites:
            if prerequisite.benefit not in known_benefits:
                problems.append(f"{benefit.code}：前置权益“{prerequisite.benefit}”不存在")
    product_codes = [f.product.code for f in product_files]
    problems.extend(
        f"产品 {code}：代码重复"
        for code in sorted({c for c in product_codes if product_codes.count(c) > 1})
    )
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        insurers=parties.insurers,
        vendors=parties.vendors,
        services=services.services,
        products=[f.product for f in product_files],
        coverage_lists=coverage_lists,
        benefits=benefits,
    )


def main() -> int:
    try:
        catalogue = read_catalogue()
    except CatalogueError as exc:
        print("目录文件有误：", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(
        f"OK：{len(catalogue.products)} 个产品，{len(catalogue.benefits)} 项权益，"
        f"{len(catalogue.coverage_lists)} 份名单"
    )
    for benefit in catalogue.benefits:
        print(f"  {benefit.code}  {benefit.name}  {', '.join(benefit.terms.reason_codes())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
