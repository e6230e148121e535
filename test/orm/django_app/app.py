#!/usr/bin/python3
"""A tiny Django 3.2 application on galaxy, with no SQL strings.

Settings are configured here, in code.  The application creates its tables
with Django's schema editor, fills them from test/data/iris.csv, trains by
updating a TrainingRun row with Func('project', 'options',
function='galaxy.train'), annotates every flower with its prediction
(JSONObject of its columns, the text one included), reads metrics from
galaxy.models mapped as a read-only model and one metric as a scalar,
queues a job and waits for it, deploys and rolls back.  Django sends every
value as psycopg2 literals: strings and JSON as quoted literals, which
resolve to the text forms of galaxy's ORM calling convention.

Connection: libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE); the
role needs galaxy_trainer and CREATE on the public schema.  Exit status 0
when every check passed, 1 otherwise.
"""
import csv
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # test/orm: the django_app package

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DATABASES={'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ.get('PGDATABASE', 'postgres'),
        'USER': os.environ.get('PGUSER', ''),
        'HOST': os.environ.get('PGHOST', ''),
        'PORT': os.environ.get('PGPORT', ''),
    }},
    INSTALLED_APPS=['django_app'],
    DEFAULT_AUTO_FIELD='django.db.models.BigAutoField',
    USE_TZ=True,
)
django.setup()

from django.contrib.postgres.fields import ArrayField  # noqa: E402
from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.db.models import (BigIntegerField, F, FloatField, Func, JSONField, TextField,  # noqa: E402
                              Value)
from django.db.models.functions import Cast, JSONObject  # noqa: E402

from django_app.models import DeployedModel, Flower, GalaxyModel, TrainingRun  # noqa: E402

IRIS = os.path.join(HERE, '..', '..', 'data', 'iris.csv')
PROJECT = 'flowers_dj'
INPUTS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'size']

failures = []


def check(ok, what):
    print(('ok      ' if ok else 'FAILED  ') + what, flush=True)
    if not ok:
        failures.append(what)


def galaxy(name, *args, output_field):
    """galaxy.<name>(args...) as a Django expression."""
    return Func(*args, function=f'galaxy.{name}', output_field=output_field)


def features():
    """A JSON object of a flower's input columns, built by the database for each row."""
    return JSONObject(**{name: F(name) for name in INPUTS})


def size_of(sepal_length):
    return 'small' if sepal_length < 5.5 else 'medium' if sepal_length < 6.5 else 'large'


def train(options):
    """Record a training request and let galaxy.train() fill in its model id, in one UPDATE."""
    run = TrainingRun.objects.create(project=PROJECT, options=options)
    TrainingRun.objects.filter(pk=run.pk).update(
        model_id=galaxy('train', F('project'), F('options'), output_field=BigIntegerField()))
    run.refresh_from_db()
    return run


def scalar(expression):
    """One expression evaluated once, on the application's own (single) row of a run."""
    return TrainingRun.objects.filter(pk=first_run.pk).annotate(v=expression).values_list('v', flat=True).get()


first_run = None


def main():
    global first_run
    started = time.monotonic()
    check(django.VERSION[:2] == (3, 2), f'Django {django.get_version()}')

    with connection.schema_editor() as editor:
        for model in (Flower, TrainingRun):
            editor.create_model(model)
    with open(IRIS, newline='') as f:
        Flower.objects.bulk_create(
            Flower(sepal_length=float(r['sepal_length']), sepal_width=float(r['sepal_width']),
                   petal_length=float(r['petal_length']), petal_width=float(r['petal_width']),
                   size=size_of(float(r['sepal_length'])), species=r['species'])
            for r in csv.DictReader(f))
    check(Flower.objects.count() == 150, 'the ORM stored 150 flowers')

    # train from a JSONField: no features given, so every column but the target and the key
    options = {'relation': Flower._meta.db_table, 'target': 'species', 'algorithm': 'logistic_regression',
               'hyperparams': {'max_iter': 200}, 'seed': 7}
    first_run = train(options)
    model_id = first_run.model_id
    check(isinstance(model_id, int) and model_id > 0, f'UPDATE ... SET model_id = galaxy.train(project, options) ({model_id})')

    # the same call from Values: a JSON string, and a dict sent as JSON (not as hstore)
    retrain = dict(options, deploy='never')
    ids = [scalar(galaxy('train', Value(PROJECT), Value(json.dumps(retrain)), output_field=BigIntegerField())),
           scalar(galaxy('train', Value(PROJECT), Value(retrain, output_field=JSONField()),
                         output_field=BigIntegerField()))]
    check(all(isinstance(i, int) for i in ids) and len(set(ids + [model_id])) == 3,
          f'Value(str) and Value(dict, output_field=JSONField()) options each train a model ({ids})')

    # a bad option is an error with its SQLSTATE
    try:
        with transaction.atomic():
            scalar(galaxy('train', Value(PROJECT), Value(json.dumps({'relation': 'flowers', 'target': 'species',
                                                                     'test_size': 'half'})),
                          output_field=BigIntegerField()))
        check(False, 'an option of the wrong type is refused')
    except DatabaseError as e:
        check(e.__cause__.pgcode == '22023' and 'test_size' in str(e), 'an option of the wrong type is refused (22023)')

    # galaxy.models as a read-only model
    m = GalaxyModel.objects.get(pk=model_id)
    check(m.algorithm == 'logistic_regression' and m.status == 'deployed' and m.version == '1.0.0',
          f'galaxy.models row: {m.algorithm} {m.version} {m.status}')
    check(m.features == INPUTS, f'the primary key is not a feature: {m.features}')
    accuracy = m.metrics['accuracy']
    check(0.85 <= accuracy <= 1.0, f'held-out accuracy from galaxy.models.metrics: {accuracy:.4f}')
    try:
        m.save()
        check(False, 'GalaxyModel is read only')
    except TypeError:
        check(True, 'GalaxyModel is read only')

    # annotate every flower with its prediction: by project, by model id, routed by a key
    flowers = Flower.objects.annotate(
        predicted=galaxy('predict_label', Value(PROJECT), features(), output_field=TextField()),
        by_model=galaxy('predict_label', Value(model_id), features(), output_field=TextField()),
        by_key=galaxy('predict_label', Value(PROJECT), features(), Cast('id', TextField()),
                      output_field=TextField()),
    ).order_by('id')
    rows = list(flowers)
    check(len(rows) == 150 and all(r.predicted == r.by_model == r.by_key for r in rows),
          'project, model id and routing key predict the same for every flower')
    right = sum(r.predicted == r.species for r in rows)
    check(right >= 140, f'{right} of 150 flowers predicted right')
    wrong = flowers.exclude(predicted=F('species')).count()
    check(wrong == 150 - right, f'the ORM filters on the prediction in SQL: {wrong} wrong')

    # probabilities from a dict sent as JSON
    sample = {'sepal_length': 5.1, 'sepal_width': 3.5, 'petal_length': 1.4, 'petal_width': 0.2, 'size': 'small'}
    proba = scalar(galaxy('predict_proba', Value(PROJECT), Value(sample, output_field=JSONField()),
                          output_field=ArrayField(FloatField())))
    check(isinstance(proba, list) and len(proba) == 3 and proba[0] > 0.9,
          f'predict_proba(project, dict) = {[round(p, 4) for p in proba]}')

    # one metric as a scalar
    evaluated = scalar(galaxy('evaluate', Value(PROJECT), Value(Flower._meta.db_table), Value('accuracy'),
                              output_field=FloatField()))
    check(abs(evaluated - right / 150) < 1e-9, f'galaxy.evaluate(project, relation, metric) = {evaluated:.4f}')

    # a background job: its id stored by an UPDATE, its row waited for as JSON
    run = TrainingRun.objects.create(project=PROJECT, options=dict(options, algorithm='random_forest',
                                                                   hyperparams={'n_estimators': 20},
                                                                   deploy='never', priority=1))
    TrainingRun.objects.filter(pk=run.pk).update(
        job_id=galaxy('submit', F('project'), F('options'), output_field=BigIntegerField()))
    run.refresh_from_db()
    check(isinstance(run.job_id, int), f'UPDATE ... SET job_id = galaxy.submit(project, options) ({run.job_id})')
    done = scalar(Func(galaxy('wait', Value(run.job_id), Value('2 minutes'), output_field=TextField()),
                       function='to_jsonb', output_field=JSONField()))
    check(done['state'] == 'succeeded' and isinstance(done['model_id'], int),
          f"the job {done['state']}: model {done['model_id']}")

    # deploy it, read galaxy.deployed_models, roll back
    scalar(galaxy('deploy', Value(PROJECT), Value(done['model_id']), output_field=TextField()))
    d = DeployedModel.objects.get(project=PROJECT, is_primary=True)
    check(d.model == done['model_id'] and d.algorithm == 'random_forest',
          f'galaxy.deploy(project, model): galaxy.deployed_models shows model {d.model} ({d.algorithm})')
    scalar(galaxy('rollback', Value(PROJECT), output_field=TextField()))
    serving = scalar(galaxy('deployed_model', Value(PROJECT), output_field=BigIntegerField()))
    check(serving == model_id, f'galaxy.rollback(project) serves model {serving} again')

    elapsed = time.monotonic() - started
    check(elapsed < 30, f'finished in {elapsed:.1f} s')
    if failures:
        print(f'{len(failures)} check(s) failed', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
