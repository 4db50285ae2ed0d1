from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_zalo')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CashierLoginCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', db_constraint=True, to_field='id', related_name='web_login_codes', on_delete=OnDelete.CASCADE)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', null=True, db_constraint=True, to_field='id', related_name='web_login_codes', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cashier_login_code', 'app': 'models', 'indexes': [Index(fields=['staff_id'])], 'pk_attr': 'id', 'table_description': 'A one-time code a staff member asked for in chat (``/weblogin``), typed into the web page.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CashierLoginFailure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('remote', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cashier_login_failure', 'app': 'models', 'indexes': [Index(fields=['remote', 'at'])], 'pk_attr': 'id', 'table_description': 'A wrong, used or expired login code, by client address: too many lock that address out.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CashierSession',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', db_constraint=True, to_field='id', related_name='web_sessions', on_delete=OnDelete.CASCADE)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', null=True, db_constraint=True, to_field='id', related_name='web_sessions', on_delete=OnDelete.CASCADE)),
                ('via', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('customer_id', fields.BigIntField(null=True)),
                ('voucher_id', fields.BigIntField(null=True)),
            ],
            options={'table': 'cashier_session', 'app': 'models', 'indexes': [Index(fields=['staff_id'])], 'pk_attr': 'id', 'table_description': 'A logged-in web page: one staff member at one store (``store`` null = all stores, as the'},
            bases=['Model'],
        ),
    ]
