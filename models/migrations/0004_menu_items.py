from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_referrals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MenuItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'menu_item', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A dish or drink a cashier can tick on a bill (feeds later personalisation). Kept short by'},
            bases=['Model'],
        ),
    ]
