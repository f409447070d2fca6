from django.db import migrations


class Migration(migrations.Migration):
    # Staff and vendor tokens share one abstract model (portal.kernel.tokens.ApiToken):
    # the vendor token's "prefix" is the shared "hint".
    dependencies = [("bookings", "0003_staff_access")]

    operations = [
        migrations.RenameField(model_name="vendortoken", old_name="prefix", new_name="hint"),
    ]
