from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_staff_invites_rules_purchases')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Customer',
            name='referral_code',
            field=fields.CharField(null=True, unique=True, max_length=16),
        ),
        ops.AddField(
            model_name='Customer',
            name='referral_rewarded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Customer',
            name='referred_by',
            field=fields.ForeignKeyField('models.Customer', source_field='referred_by_id', null=True, db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='ProgramRules',
            name='referral_points_friend',
            field=fields.IntField(default=200, db_default=200),
        ),
        ops.AddField(
            model_name='ProgramRules',
            name='referral_points_referrer',
            field=fields.IntField(default=200, db_default=200),
        ),
    ]
