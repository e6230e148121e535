"""The application's models: its own tables, and galaxy's catalog read only."""
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Flower(models.Model):
    """Four measurements, a text column and the species; its primary key is never a feature."""
    sepal_length = models.FloatField()
    sepal_width = models.FloatField()
    petal_length = models.FloatField()
    petal_width = models.FloatField()
    size = models.TextField()           # a categorical input: 'small', 'medium', 'large'
    species = models.TextField()

    class Meta:
        db_table = 'flowers'


class TrainingRun(models.Model):
    """One training request of the application: filled in by galaxy.train() in an UPDATE."""
    project = models.TextField()
    options = models.JSONField()
    model_id = models.BigIntegerField(null=True)
    job_id = models.BigIntegerField(null=True)

    class Meta:
        db_table = 'training_runs'


class ReadOnly(models.Model):
    """galaxy's catalog: galaxy's functions write it, the application only reads."""

    class Meta:
        abstract = True
        managed = False

    def save(self, *args, **kwargs):
        raise TypeError(f'{type(self).__name__} is read only')

    def delete(self, *args, **kwargs):
        raise TypeError(f'{type(self).__name__} is read only')


class GalaxyModel(ReadOnly):
    """galaxy.models: every column but the model bytes."""
    id = models.BigIntegerField(primary_key=True)
    project_id = models.BigIntegerField()
    version = models.TextField()
    status = models.TextField()
    algorithm = models.TextField()
    task = models.TextField()
    metrics = models.JSONField()
    features = ArrayField(models.TextField())
    training_rows = models.BigIntegerField()

    class Meta(ReadOnly.Meta):
        db_table = '"galaxy"."models"'


class DeployedModel(ReadOnly):
    """galaxy.deployed_models, the view of what serves now."""
    deployment_id = models.BigIntegerField(primary_key=True)
    project = models.TextField()
    model = models.BigIntegerField()
    version = models.TextField()
    algorithm = models.TextField()
    is_primary = models.BooleanField()

    class Meta(ReadOnly.Meta):
        db_table = '"galaxy"."deployed_models"'
