from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_campaigns')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ZaloEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event_key', fields.CharField(unique=True, max_length=128)),
                ('event_name', fields.CharField(max_length=40)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'zalo_event', 'app': 'models', 'indexes': [Index(fields=['received_at'])], 'pk_attr': 'id', 'table_description': "A webhook event already accepted. Zalo redelivers when it misses our 200, so each event's"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ZaloToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('app_id', fields.CharField(unique=True, max_length=32)),
                ('access_token', fields.TextField(default='', unique=False)),
                ('refresh_token', fields.TextField(unique=False)),
                ('access_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=0)),
                ('refreshing_by', fields.CharField(null=True, max_length=40)),
                ('refreshing_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failure', fields.CharField(null=True, max_length=255)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'zalo_token', 'app': 'models', 'pk_attr': 'id', 'table_description': "The OA's current OAuth v4 token pair, one row per Zalo app."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ZaloUpload',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(unique=True, max_length=64)),
                ('attachment_id', fields.CharField(max_length=255)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'zalo_upload', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An image uploaded to Zalo, by the SHA-256 of its bytes. Zalo keeps an ``attachment_id``'},
            bases=['Model'],
        ),
    ]
