from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor_account_id', fields.BigIntField(null=True)),
                ('action', fields.CharField(max_length=64)),
                ('subject', fields.CharField(default='', max_length=128)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('display_name', fields.CharField(default='', max_length=128)),
                ('language', fields.CharField(default='vi', max_length=2)),
                ('phone', fields.CharField(null=True, unique=True, max_length=16)),
                ('birthday_day', fields.SmallIntField(null=True)),
                ('birthday_month', fields.SmallIntField(null=True)),
                ('birthday_year', fields.SmallIntField(null=True)),
                ('tier_code', fields.CharField(default='member', max_length=32)),
                ('points_balance', fields.BigIntField(default=0)),
                ('marketing_consent', fields.BooleanField(default=False)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A member of the loyalty program: one person, whatever apps they use.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelAccount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=16)),
                ('external_id', fields.CharField(max_length=64)),
                ('chat_id', fields.CharField(max_length=64)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.SET_NULL)),
                ('language', fields.CharField(null=True, max_length=2)),
                ('display_name', fields.CharField(default='', max_length=128)),
                ('username', fields.CharField(null=True, max_length=64)),
                ('unreachable_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channel_account', 'app': 'models', 'unique_together': (('channel', 'external_id'),), 'pk_attr': 'id', 'table_description': "Who is talking, on which app. Ids are text: Telegram's exceed 2^31, Zalo's are strings."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='consents', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=16)),
                ('granted', fields.BooleanField()),
                ('wording_version', fields.CharField(max_length=32)),
                ('language', fields.CharField(max_length=2)),
                ('channel', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'consent_record', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Evidence of each consent given or withdrawn (Law 91/2025): what, which wording, when.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.ChannelAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='conversation', on_delete=OnDelete.CASCADE)),
                ('flow', fields.CharField(null=True, max_length=32)),
                ('step', fields.CharField(null=True, max_length=32)),
                ('nonce', fields.CharField(default='', max_length=8)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'conversation', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Where a multi-step flow stands for one chat account, so a restart or a second process'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.CharField(max_length=64)),
                ('slot', fields.CharField(max_length=32)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'job_run', 'app': 'models', 'unique_together': (('job', 'slot'),), 'pk_attr': 'id', 'table_description': "A scheduled job's claim on one time slot, so two processes never run the same slot."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='ledger', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=16)),
                ('points', fields.BigIntField()),
                ('balance_after', fields.BigIntField()),
                ('idempotency_key', fields.CharField(null=True, unique=True, max_length=128)),
                ('note', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ledger_entry', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One movement of points. Rows are only ever inserted: corrections are new, reversing rows.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberCard',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='cards', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_card', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'issued_at'])], 'pk_attr': 'id', 'table_description': 'One issued member QR card. Only the SHA-256 of its 128-bit random token is kept.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointsLot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('entry', fields.ForeignKeyField('models.LedgerEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('points', fields.BigIntField()),
                ('remaining', fields.BigIntField()),
                ('earned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'points_lot', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'Points earned together, expiring together. Spending draws from the oldest lots first.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LotDraw',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.LedgerEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='draws', on_delete=OnDelete.RESTRICT)),
                ('lot', fields.ForeignKeyField('models.PointsLot', source_field='lot_id', db_constraint=True, to_field='id', related_name='draws', on_delete=OnDelete.RESTRICT)),
                ('points', fields.BigIntField()),
            ],
            options={'table': 'lot_draw', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How many points one spending or expiry entry took from one lot (so it can be undone).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Store',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=128)),
                ('address', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'store', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.ChannelAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='staff_roles', on_delete=OnDelete.CASCADE)),
                ('store', fields.ForeignKeyField('models.Store', source_field='store_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.SET_NULL)),
                ('role', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_member', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A chat account with a role (owner, manager, cashier), optionally tied to one store.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tier',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name_vi', fields.CharField(max_length=64)),
                ('name_en', fields.CharField(max_length=64)),
                ('threshold', fields.BigIntField()),
                ('multiplier_pct', fields.IntField(default=100)),
            ],
            options={'table': 'tier', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A membership level. Reached by points earned in the last 12 months, never by balance.'},
            bases=['Model'],
        ),
    ]
