from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_cashier_web')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiIdempotency',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', db_constraint=True, to_field='id', related_name='api_requests', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('operation', fields.CharField(max_length=32)),
                ('request_hash', fields.CharField(max_length=64)),
                ('status_code', fields.SmallIntField(null=True)),
                ('response', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_idempotency', 'app': 'models', 'unique_together': (('store_id', 'key'),), 'pk_attr': 'id', 'table_description': "One ``Idempotency-Key`` of one store: the request's fingerprint and, once it succeeded, the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(default='', max_length=64)),
                ('prefix', fields.CharField(max_length=24)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.RESTRICT)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.RESTRICT)),
                ('created_by_account_id', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'indexes': [Index(fields=['store_id']), Index(fields=['staff_id'])], 'pk_attr': 'id', 'table_description': "A till system's key for one store. Only the SHA-256 of the 256-bit secret is kept, and the"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Purchase',
            name='receipt_id',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
