"""The benefits app's admin: one module per capability, registered when Django imports this."""

from benefits.calendar import admin as calendar_admin
from benefits.catalogue import admin as catalogue_admin
from benefits.policies import admin as policies_admin

__all__ = ["calendar_admin", "catalogue_admin", "policies_admin"]
