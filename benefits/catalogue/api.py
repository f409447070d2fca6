"""Staff API: the catalogue (products, benefits, vendors, terms)."""

from django.http import HttpRequest
from ninja import Query, Router, Schema

from benefits.catalogue.schemas import CatalogueOut
from benefits.catalogue.selectors import catalogue_products
from benefits.models import Benefit, Product
from benefits.terms.display import describe_terms
from portal.kernel.api_errors import STAFF_AUTH_ERRORS, error_responses
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import scope

router = Router()


class CatalogueFilters(Schema):
    product: str | None = None
    insurer: str | None = None
    include_clauses: bool = False


def _benefit(benefit: Benefit, include_clauses: bool) -> dict:
    terms = benefit.parsed_terms
    return {
        "code": benefit.code,
        "name": benefit.name,
        "service": benefit.service,
        "parent": benefit.parent.code if benefit.parent else None,
        "vendor": benefit.vendor,
        "active": benefit.active,
        "summary": [f"{title}：{'；'.join(lines)}" for title, lines in describe_terms(terms)],
        "reason_codes": terms.reason_codes(),
        "coverage_lists": [cl.code for cl in benefit.coverage_lists.all()],
        "terms": benefit.terms,
        "source": {
            "file": benefit.source_file,
            "section": benefit.source_section,
            "text": benefit.clause_text if include_clauses else None,
        },
    }


def _product(product: Product, include_clauses: bool) -> dict:
    return {
        "code": product.code,
        "name": product.name,
        "insurer": {"code": product.insurer.code, "name": product.insurer.name},
        "handbook_title": product.handbook_title,
        "active": product.active,
        "benefits": [_benefit(b, include_clauses) for b in product.benefits.all()],
    }


@router.get(
    "/catalogue",
    response={200: CatalogueOut, **error_responses(*STAFF_AUTH_ERRORS, 422)},
    summary="产品目录：产品、权益、服务商与条款",
    auth=staff_auth("benefits.view_product", "benefits.view_benefit"),
)
def catalogue(request: HttpRequest, filters: Query[CatalogueFilters]) -> dict:
    products = catalogue_products(
        product=filters.product,
        insurer=filters.insurer,
        products=scope(Product.objects.all(), request.user),
    )
    return {"products": [_product(p, filters.include_clauses) for p in products]}
