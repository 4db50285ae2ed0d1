from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_insight_import')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Campaign',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_by', fields.ForeignKeyField('models.StaffMember', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='draft', max_length=10)),
                ('audience_kind', fields.CharField(max_length=10)),
                ('audience_value', fields.CharField(default='', max_length=32)),
                ('reward', fields.ForeignKeyField('models.Reward', source_field='reward_id', null=True, db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.SET_NULL)),
                ('offer_title', fields.CharField(default='', max_length=80)),
                ('offer_kind', fields.CharField(default='', max_length=8)),
                ('offer_value', fields.BigIntField(default=0)),
                ('offer_item', fields.CharField(default='', max_length=64)),
                ('offer_min_spend_vnd', fields.BigIntField(null=True)),
                ('valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('holdout_pct', fields.SmallIntField(default=10)),
                ('send_mode', fields.CharField(default='now', max_length=8)),
                ('send_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attribution_days', fields.SmallIntField(default=14)),
                ('variant', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('approved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('members_send', fields.IntField(default=0)),
                ('members_holdout', fields.IntField(default=0)),
                ('llm_calls', fields.IntField(default=0)),
                ('prompt_tokens', fields.IntField(default=0)),
                ('completion_tokens', fields.IntField(default=0)),
                ('llm_fallbacks', fields.IntField(default=0)),
                ('llm_cost_usd', fields.FloatField(default=0.0)),
            ],
            options={'table': 'campaign', 'app': 'models', 'indexes': [Index(fields=['status'])], 'pk_attr': 'id', 'table_description': 'One offer to one audience, measured against a holdout.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CampaignMember',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='campaign_arms', on_delete=OnDelete.CASCADE)),
                ('holdout', fields.BooleanField()),
                ('voucher', fields.ForeignKeyField('models.Voucher', source_field='voucher_id', null=True, db_constraint=True, to_field='id', related_name='campaign_arm', on_delete=OnDelete.SET_NULL)),
                ('copy_source', fields.CharField(default='', max_length=8)),
                ('prepared_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'campaign_member', 'app': 'models', 'unique_together': (('campaign_id', 'customer_id'),), 'indexes': [Index(fields=['campaign_id', 'holdout', 'prepared_at']), Index(fields=['customer_id']), Index(fields=['voucher_id'])], 'pk_attr': 'id', 'table_description': "A member's arm in a campaign, fixed at approval before anything is sent. ``prepared_at``"},
            bases=['Model'],
        ),
    ]
