from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProgramRules',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('earn_vnd_per_point', fields.IntField(default=1000)),
                ('points_lifetime_days', fields.IntField(default=365)),
                ('max_purchase_vnd', fields.BigIntField(default=5000000)),
                ('daily_purchases_alert', fields.IntField(default=3)),
                ('undo_minutes', fields.IntField(default=15)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'program_rules', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The rules owners edit in chat. One row (id 1): changes apply from now on, never backwards.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Purchase',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='purchases', on_delete=OnDelete.RESTRICT)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', null=True, db_constraint=True, to_field='id', related_name='purchases', on_delete=OnDelete.SET_NULL)),
                ('cashier', fields.ForeignKeyField('models.StaffMember', source_field='cashier_id', null=True, db_constraint=True, to_field='id', related_name='purchases', on_delete=OnDelete.SET_NULL)),
                ('amount_vnd', fields.BigIntField()),
                ('points', fields.BigIntField()),
                ('items', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('idempotency_key', fields.CharField(unique=True, max_length=128)),
                ('earn_entry', fields.ForeignKeyField('models.LedgerEntry', source_field='earn_entry_id', null=True, db_constraint=True, to_field='id', related_name='purchase', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('voided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'purchase', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'created_at']), Index(fields=['cashier_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One bill. ``idempotency_key`` is unique, so a double tap or a retried request records it'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffInvite',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('role', fields.CharField(max_length=16)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', null=True, db_constraint=True, to_field='id', related_name='invites', on_delete=OnDelete.SET_NULL)),
                ('created_by', fields.ForeignKeyField('models.StaffMember', source_field='created_by_id', db_constraint=True, to_field='id', related_name='invites_sent', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_by', fields.ForeignKeyField('models.ChannelAccount', source_field='used_by_id', null=True, db_constraint=True, to_field='id', related_name='invites_used', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'staff_invite', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A one-time link that makes whoever opens it a cashier or manager. Only the SHA-256 of its'},
            bases=['Model'],
        ),
    ]
