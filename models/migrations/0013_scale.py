from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_pos_api')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SeenUpdate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'seen_update', 'app': 'models', 'indexes': [Index(fields=['seen_at'])], 'pk_attr': 'id', 'table_description': 'A chat-app update (``telegram:<update_id>``) some process took, so a redelivery landing'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SendClock',
            fields=[
                ('id', fields.SmallIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('next_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paused_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'send_clock', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The one row every sender reserves its send slots from (PostgreSQL only).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Campaign',
            name='preparing_by',
            field=fields.CharField(null=True, description='The worker preparing this approved campaign and until when, so a second process does', max_length=40),
        ),
        ops.AddField(
            model_name='Campaign',
            name='preparing_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ChannelAccount',
            name='next_send_at',
            field=fields.DatetimeField(null=True, description='The earliest moment the next proactive message may leave for this chat, on PostgreSQL', auto_now=False, auto_now_add=False),
        ),
    ]
