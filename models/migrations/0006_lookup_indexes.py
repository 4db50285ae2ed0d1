from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_rewards_vouchers')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ChannelAccount',
            index=Index(fields=['customer_id']),
        ),
        ops.AddIndex(
            model_name='ConsentRecord',
            index=Index(fields=['customer_id']),
        ),
        ops.AddIndex(
            model_name='PointsLot',
            index=Index(fields=['entry_id']),
        ),
        ops.AddIndex(
            model_name='StaffMember',
            index=Index(fields=['account_id']),
        ),
    ]
