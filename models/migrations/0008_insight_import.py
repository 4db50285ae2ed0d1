from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_outbox_scheduler_offers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberInsight',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='insight', on_delete=OnDelete.CASCADE)),
                ('as_of', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('visits', fields.IntField(default=0)),
                ('first_visit_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_visit_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('recency_days', fields.IntField(null=True)),
                ('spend_vnd', fields.BigIntField(default=0)),
                ('average_spend_vnd', fields.BigIntField(default=0)),
                ('r_score', fields.SmallIntField(default=0)),
                ('f_score', fields.SmallIntField(default=0)),
                ('m_score', fields.SmallIntField(default=0)),
                ('segment', fields.CharField(default='', max_length=24)),
                ('p_alive', fields.FloatField(null=True)),
                ('expected_visits_30', fields.FloatField(null=True)),
                ('value_12m_vnd', fields.BigIntField(null=True)),
                ('favourite_items', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('usual_weekday', fields.SmallIntField(null=True)),
                ('usual_hour', fields.SmallIntField(null=True)),
            ],
            options={'table': 'member_insight', 'app': 'models', 'indexes': [Index(fields=['segment'])], 'pk_attr': 'id', 'table_description': "A member's scores as of the last analysis (replaced on every run, never edited)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModelFit',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('as_of', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('fitted', fields.BooleanField()),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('log_likelihood', fields.FloatField(null=True)),
                ('members', fields.IntField(default=0)),
                ('note', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'model_fit', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One fit of the churn model (BG/NBD with Gamma-Gamma spend), kept for the analyst.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='pos_ref',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='Purchase',
            name='source',
            field=fields.CharField(default='till', db_default='till', max_length=8),
        ),
    ]
