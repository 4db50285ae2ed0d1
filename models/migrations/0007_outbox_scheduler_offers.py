from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_lookup_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.ChannelAccount', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.SET_NULL)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharField(max_length=32)),
                ('marketing', fields.BooleanField(default=False)),
                ('dedupe_key', fields.CharField(max_length=128)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='queued', max_length=10)),
                ('reason', fields.CharField(default='', max_length=255)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('not_before', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=40)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'unique_together': (('account_id', 'dedupe_key'),), 'indexes': [Index(fields=['status', 'not_before']), Index(fields=['customer_id', 'marketing', 'sent_at'])], 'pk_attr': 'id', 'table_description': 'One message to one chat account, sent by the outbox sender.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ProgramRules',
            name='birthday_days_ahead',
            field=fields.IntField(default=3, db_default=3),
        ),
        ops.AddField(
            model_name='ProgramRules',
            name='birthday_reward_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='ProgramRules',
            name='winback_days',
            field=fields.IntField(default=21, db_default=21),
        ),
        ops.AddField(
            model_name='ProgramRules',
            name='winback_reward_id',
            field=fields.IntField(null=True),
        ),
    ]
