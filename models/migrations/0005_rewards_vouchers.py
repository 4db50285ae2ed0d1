from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_menu_items')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RedeemFailure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', db_constraint=True, to_field='id', related_name='redeem_failures', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'redeem_failure', 'app': 'models', 'indexes': [Index(fields=['staff_id', 'at'])], 'pk_attr': 'id', 'table_description': 'A wrong short code typed by a cashier, for throttling guesses.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reward',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=80)),
                ('kind', fields.CharField(max_length=8)),
                ('value', fields.BigIntField(default=0)),
                ('item_name', fields.CharField(default='', max_length=64)),
                ('cost_points', fields.BigIntField()),
                ('valid_days', fields.IntField()),
                ('min_spend_vnd', fields.BigIntField(null=True)),
                ('stock', fields.IntField(null=True)),
                ('tier_code', fields.CharField(null=True, max_length=32)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reward', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Something points buy: a percentage off, an amount off (VND) or a free item.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Voucher',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.RESTRICT)),
                ('reward', fields.ForeignKeyField('models.Reward', source_field='reward_id', null=True, db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharField(max_length=32)),
                ('title', fields.CharField(max_length=80)),
                ('kind', fields.CharField(max_length=8)),
                ('value', fields.BigIntField(default=0)),
                ('item_name', fields.CharField(default='', max_length=64)),
                ('min_spend_vnd', fields.BigIntField(null=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('short_code', fields.CharField(unique=True, max_length=10)),
                ('status', fields.CharField(default='issued', max_length=10)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('redeemed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('redeemed_by', fields.ForeignKeyField('models.StaffMember', source_field='redeemed_by_id', null=True, db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.SET_NULL)),
                ('redeemed_store', fields.ForeignKeyField('models.Store', source_field='redeemed_store_id', null=True, db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.SET_NULL)),
                ('spend_entry', fields.ForeignKeyField('models.LedgerEntry', source_field='spend_entry_id', null=True, db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(null=True, unique=True, max_length=128)),
            ],
            options={'table': 'voucher', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'status']), Index(fields=['status', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'One voucher. Its QR carries a 128-bit token (only the hash is kept) and its short code is'},
            bases=['Model'],
        ),
    ]
