#!/usr/bin/python3
"""A tiny SQLAlchemy 1.4 application on galaxy, with no SQL strings.

It maps a table of flowers, fills it from test/data/iris.csv, trains with
func.galaxy.train(project, options), predicts every row inside an ORM query
(from a JSON object of its columns, and from the whole row), reads the
model's metrics through the reflected galaxy.models table, evaluates one
metric as a scalar, queues a job with func.galaxy.submit() and waits for it,
deploys and rolls back.  Every call goes through SQLAlchemy's func.* the way
SQLAlchemy sends it: positional bind parameters, which psycopg2 turns into
quoted literals.

Connection: libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE); the
role needs galaxy_trainer and CREATE on the public schema.  Exit status 0
when every check passed, 1 otherwise.
"""
import csv
import json
import os
import sys
import time

import sqlalchemy
from psycopg2.extras import Json
from sqlalchemy import (BigInteger, Column, Float, Integer, MetaData, Table, Text, bindparam, cast,
                        create_engine, func, select)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session, declarative_base

HERE = os.path.dirname(os.path.abspath(__file__))
IRIS = os.path.join(HERE, '..', 'data', 'iris.csv')
PROJECT = 'flowers_sa'
INPUTS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'size']

failures = []


def check(ok, what):
    print(('ok      ' if ok else 'FAILED  ') + what, flush=True)
    if not ok:
        failures.append(what)


Base = declarative_base()
Catalog = declarative_base()


class Flower(Base):
    """The application's own table: four measurements, a text column and the species."""
    __tablename__ = 'flowers'
    id = Column(Integer, primary_key=True)
    sepal_length = Column(Float, nullable=False)
    sepal_width = Column(Float, nullable=False)
    petal_length = Column(Float, nullable=False)
    petal_width = Column(Float, nullable=False)
    size = Column(Text, nullable=False)          # a categorical input: 'small', 'medium', 'large'
    species = Column(Text, nullable=False)


class GalaxyModel(Catalog):
    """galaxy.models, read only (galaxy's roles may not write it); every column but the model bytes."""
    __tablename__ = 'models'
    __table_args__ = {'schema': 'galaxy'}
    id = Column(BigInteger, primary_key=True)
    project_id = Column(BigInteger)
    version = Column(Text)
    status = Column(Text)
    algorithm = Column(Text)
    task = Column(Text)
    metrics = Column(JSONB)
    features = Column(ARRAY(Text))


def size_of(sepal_length):
    return 'small' if sepal_length < 5.5 else 'medium' if sepal_length < 6.5 else 'large'


def features_of(entity):
    """A JSON object of an entity's input columns, built by the database for each row."""
    pairs = []
    for name in INPUTS:
        pairs += [name, getattr(entity, name)]
    return func.jsonb_build_object(*pairs)


def main():
    started = time.monotonic()
    engine = create_engine('postgresql+psycopg2://', future=True)
    check(sqlalchemy.__version__.startswith('1.4'), f'SQLAlchemy {sqlalchemy.__version__}')

    check(Base.metadata.tables.keys() == {'flowers'}, 'only the application\'s own table is created')
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s, open(IRIS, newline='') as f:
        s.add_all(Flower(sepal_length=float(r['sepal_length']), sepal_width=float(r['sepal_width']),
                         petal_length=float(r['petal_length']), petal_width=float(r['petal_width']),
                         size=size_of(float(r['sepal_length'])), species=r['species'])
                  for r in csv.DictReader(f))
        s.commit()
        check(s.scalar(select(func.count()).select_from(Flower)) == 150, 'the ORM stored 150 flowers')

    options = {'relation': Flower.__tablename__, 'target': 'species', 'algorithm': 'logistic_regression',
               'features': INPUTS, 'hyperparams': {'max_iter': 200}, 'seed': 7}

    with Session(engine) as s:
        # train: a dict as psycopg2's Json (a quoted literal: the text form) returns the model id
        model_id = s.scalar(select(func.galaxy.train(PROJECT, Json(options))))
        s.commit()
        check(isinstance(model_id, int) and model_id > 0, f'func.galaxy.train(project, Json(dict)) returns a model id ({model_id!r})')

        # the same options as a JSON string, as a typed JSONB bind parameter and cast to jsonb
        retrain = dict(options, deploy='never')
        ids = [s.scalar(select(func.galaxy.train(PROJECT, json.dumps(retrain)))),
               s.scalar(select(func.galaxy.train(PROJECT, bindparam('o', retrain, type_=JSONB)))),
               s.scalar(select(func.galaxy.train(PROJECT, cast(retrain, JSONB))))]
        s.commit()
        check(all(isinstance(i, int) for i in ids) and len(set(ids + [model_id])) == 4,
              f'str, JSONB bind parameter and cast(dict, JSONB) options each train a model ({ids})')

        # a registered dataset (features as a Python list: a text[]), profiled and trained on by name
        s.execute(select(func.galaxy.create_dataset('flowers_ds', Flower.__tablename__, 'species', INPUTS)))
        profile = func.galaxy.profile(Flower.__tablename__).table_valued('column_name', 'count', 'nulls')
        counts = {r.column_name: (r.count, r.nulls) for r in s.execute(select(profile))}
        check(counts.get('size') == (150, 0), f'func.galaxy.profile(...).table_valued(...) profiles size: {counts.get("size")}')
        by_dataset = s.scalar(select(func.galaxy.train(PROJECT, Json({'dataset': 'flowers_ds', 'deploy': 'never',
                                                                       'algorithm': 'naive_bayes'}))))
        s.commit()
        check(s.get(GalaxyModel, by_dataset).features == INPUTS, f'trained on the dataset by name: model {by_dataset}')

        # a bad option is an error with its SQLSTATE, not a silently dropped argument
        try:
            s.scalar(select(func.galaxy.train(PROJECT, Json({'relation': 'flowers', 'target': 'species',
                                                             'algoritm': 'random_forest'}))))
            check(False, 'an unknown option is refused')
        except sqlalchemy.exc.DBAPIError as e:
            s.rollback()
            check(e.orig.pgcode == '22023' and 'algoritm' in str(e.orig), 'an unknown option is refused (22023)')

        # read the model through galaxy.models mapped as a read-only class
        m = s.get(GalaxyModel, model_id)
        check(m.algorithm == 'logistic_regression' and m.status == 'deployed' and m.version == '1.0.0',
              f'galaxy.models row: {m.algorithm} {m.version} {m.status}')
        check(m.features == INPUTS, f'the model reads the named inputs {m.features}')
        accuracy = m.metrics['accuracy']
        check(0.85 <= accuracy <= 1.0, f'held-out accuracy from galaxy.models.metrics: {accuracy:.4f}')

        # predict every row inside an ORM query: from a JSON object of its columns (text input
        # included), from the whole row, by model id, and routed by a key
        by_json = func.galaxy.predict_label(PROJECT, features_of(Flower)).label('by_json')
        by_row = func.galaxy.predict_label(PROJECT, Flower.__table__.table_valued()).label('by_row')
        by_id = func.galaxy.predict_label(model_id, features_of(Flower)).label('by_id')
        by_key = func.galaxy.predict_label(PROJECT, features_of(Flower), cast(Flower.id, Text)).label('by_key')
        rows = s.execute(select(Flower, by_json, by_row, by_id, by_key).order_by(Flower.id)).all()
        check(len(rows) == 150 and all(isinstance(r.Flower, Flower) for r in rows), 'each flower comes back as an entity')
        check(all(r.by_json == r.by_row == r.by_id == r.by_key for r in rows),
              'JSON object, whole row, model id and routing key predict the same')
        right = sum(r.by_json == r.Flower.species for r in rows)
        check(right >= 140, f'{right} of 150 flowers predicted right')

        # filter and aggregate on the prediction in SQL
        wrong = s.scalar(select(func.count()).select_from(Flower).where(
            func.galaxy.predict_label(PROJECT, features_of(Flower)) != Flower.species))
        check(wrong == 150 - right, f'the ORM counts {wrong} wrong predictions in SQL')

        # probabilities and numeric predictions from a Python dict
        sample = {'sepal_length': 5.1, 'sepal_width': 3.5, 'petal_length': 1.4, 'petal_width': 0.2, 'size': 'small'}
        proba = s.scalar(select(func.galaxy.predict_proba(PROJECT, Json(sample))))
        check(isinstance(proba, list) and len(proba) == 3 and abs(sum(proba) - 1) < 1e-9 and proba[0] > 0.9,
              f'predict_proba(project, Json(dict)) = {[round(p, 4) for p in proba]}')
        label = s.scalar(select(func.galaxy.predict_label(PROJECT, json.dumps(sample), 'customer-42')))
        check(label == 'setosa', f'predict_label(project, str, key) = {label!r}')

        # one metric as a scalar
        evaluated = s.scalar(select(func.galaxy.evaluate(PROJECT, Flower.__tablename__, 'accuracy')))
        check(isinstance(evaluated, float) and abs(evaluated - right / 150) < 1e-9,
              f'func.galaxy.evaluate(project, relation, metric) = {evaluated:.4f}')

        # a background job: submit returns its id; wait's row comes back as JSON
        job = s.scalar(select(func.galaxy.submit(PROJECT, Json(dict(options, algorithm='random_forest',
                                                                     hyperparams={'n_estimators': 20},
                                                                     deploy='never', timeout='5 minutes')))))
        s.commit()
        check(isinstance(job, int), f'func.galaxy.submit(project, Json(dict)) returns a job id ({job})')
        done = s.scalar(select(func.to_jsonb(func.galaxy.wait(job, '2 minutes'), type_=JSONB)))
        check(done['state'] == 'succeeded' and isinstance(done['model_id'], int),
              f"the job {done['state']}: model {done['model_id']}")
        s.commit()

        # deploy the job's model, see it serve (in the reflected view galaxy.deployed_models), roll back
        s.execute(select(func.galaxy.deploy(PROJECT, done['model_id'])))
        s.commit()
        serving = s.scalar(select(func.galaxy.deployed_model(PROJECT)))
        check(serving == done['model_id'], f'func.galaxy.deploy(project, model) serves model {serving}')
        deployed = Table('deployed_models', MetaData(), schema='galaxy', autoload_with=engine)
        d = s.execute(select(deployed).where(deployed.c.project == PROJECT)).one()
        check(d.model == serving and d.is_primary and d.algorithm == 'random_forest',
              f'galaxy.deployed_models (reflected): model {d.model}, {d.algorithm}, version {d.version}')

        # the catalog is read only for the application: galaxy's functions write it
        m = s.get(GalaxyModel, model_id)
        m.status = 'archived'
        try:
            s.commit()
            check(False, 'the application cannot write galaxy.models')
        except sqlalchemy.exc.DBAPIError as e:
            s.rollback()
            check(e.orig.pgcode == '42501', 'the application cannot write galaxy.models (42501)')
        s.execute(select(func.galaxy.rollback(PROJECT)))
        s.commit()
        serving = s.scalar(select(func.galaxy.deployed_model(PROJECT)))
        check(serving == model_id, f'func.galaxy.rollback(project) serves model {serving} again')

    elapsed = time.monotonic() - started
    check(elapsed < 30, f'finished in {elapsed:.1f} s')
    if failures:
        print(f'{len(failures)} check(s) failed', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
