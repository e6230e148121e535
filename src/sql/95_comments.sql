-- ---------------------------------------------------------------------------
-- Column comments of galaxy's catalog tables and views, for \d+ in psql and
-- for BI tools that show them.  One place for all of them, after every part
-- that creates or alters a table or view (90_roles_grants.sql creates none).
-- test/pgtap/comments.sql fails when a column of a galaxy table or view has
-- no comment: a part that adds a column adds its comment here (or beside the
-- column, as 50_jobs.sql does for job_progress.attempt and step).
-- ---------------------------------------------------------------------------

-- projects
COMMENT ON COLUMN galaxy.projects.id IS 'Project id';
COMMENT ON COLUMN galaxy.projects.name IS 'Unique project name (letters, digits, _ . -; at most 63 characters): the first argument of train, predict, deploy';
COMMENT ON COLUMN galaxy.projects.task IS 'regression, classification or clustering, fixed by the first model';
COMMENT ON COLUMN galaxy.projects.owner IS 'Role that created the project (its first train, submit or import_model); holds every privilege on it';
COMMENT ON COLUMN galaxy.projects.description IS 'Free text about the project';
COMMENT ON COLUMN galaxy.projects.key_metric IS 'Metric that deploy strategy best compares; NULL: r2 (regression), accuracy (classification), silhouette (clustering)';
COMMENT ON COLUMN galaxy.projects.require_approval IS 'Whether deployments need an approved request; NULL follows the setting galaxy.require_approval';
COMMENT ON COLUMN galaxy.projects.created_at IS 'When the project was created';

-- datasets
COMMENT ON COLUMN galaxy.datasets.id IS 'Dataset id';
COMMENT ON COLUMN galaxy.datasets.name IS 'Unique dataset name, for train(dataset => ...)';
COMMENT ON COLUMN galaxy.datasets.relation IS 'The registered table, view, materialized view, partitioned or foreign table';
COMMENT ON COLUMN galaxy.datasets.target IS 'Column to predict (NULL for clustering data)';
COMMENT ON COLUMN galaxy.datasets.features IS 'Input columns, in order (without features: every column but the target and keys)';
COMMENT ON COLUMN galaxy.datasets.description IS 'Free text given to create_dataset';
COMMENT ON COLUMN galaxy.datasets.row_count IS 'Rows of the relation when it was registered';
COMMENT ON COLUMN galaxy.datasets.profile IS 'Profile of every feature and the target at registration (counts, NULLs, statistics, quantiles, histogram, top values): the baseline for drift';
COMMENT ON COLUMN galaxy.datasets.schema_fingerprint IS 'SHA-256 (hex) of name:type:width; of every feature, in order; models trained on the same input schema share it';
COMMENT ON COLUMN galaxy.datasets.owner IS 'Role that registered the dataset; it (or a galaxy_admin) may drop it';
COMMENT ON COLUMN galaxy.datasets.created_at IS 'When the dataset was registered';

-- jobs (model_id is commented in 10_catalog.sql)
COMMENT ON COLUMN galaxy.jobs.id IS 'Job id, returned by galaxy.submit()';
COMMENT ON COLUMN galaxy.jobs.project_id IS 'The project, once it exists (a job may create it)';
COMMENT ON COLUMN galaxy.jobs.project IS 'Project name as submitted';
COMMENT ON COLUMN galaxy.jobs.owner IS 'Role that submitted the job; the worker connects as this role';
COMMENT ON COLUMN galaxy.jobs.owner_oid IS 'OID of the owner role (the worker logs in by OID, so a renamed role still runs its jobs)';
COMMENT ON COLUMN galaxy.jobs.state IS 'queued, running, succeeded, failed or cancelled';
COMMENT ON COLUMN galaxy.jobs.priority IS 'Higher runs first; equal priorities run oldest first';
COMMENT ON COLUMN galaxy.jobs.retries IS 'Extra attempts allowed after a failed attempt';
COMMENT ON COLUMN galaxy.jobs.attempts IS 'Attempts started so far (a failed start counts)';
COMMENT ON COLUMN galaxy.jobs.timeout IS 'Time limit of each attempt; NULL: the owner''s galaxy.job_timeout';
COMMENT ON COLUMN galaxy.jobs.request IS 'The arguments of galaxy.submit(), as jsonb: what the worker passes to the training pipeline';
COMMENT ON COLUMN galaxy.jobs.worker_pid IS 'Process id of the training worker while the job runs';
COMMENT ON COLUMN galaxy.jobs.error_message IS 'Message of the error that failed (or cancelled) the last attempt';
COMMENT ON COLUMN galaxy.jobs.error_sqlstate IS 'SQLSTATE of that error';
COMMENT ON COLUMN galaxy.jobs.error_context IS 'DETAIL, HINT and CONTEXT of that error';
COMMENT ON COLUMN galaxy.jobs.submitted_at IS 'When the job was queued';
COMMENT ON COLUMN galaxy.jobs.started_at IS 'When the last attempt started';
COMMENT ON COLUMN galaxy.jobs.finished_at IS 'When the job reached succeeded, failed or cancelled';

-- job_progress (attempt and step are commented in 50_jobs.sql)
COMMENT ON COLUMN galaxy.job_progress.job_id IS 'The job';
COMMENT ON COLUMN galaxy.job_progress.iteration IS 'Iteration of the loop that reported (round, epoch, sweep)';
COMMENT ON COLUMN galaxy.job_progress.at IS 'When the iteration was reported';
COMMENT ON COLUMN galaxy.job_progress.phase IS 'load, preprocess, cross-validate, fit, evaluate or register';
COMMENT ON COLUMN galaxy.job_progress.total IS 'Iterations planned in that loop (NULL when unknown)';
COMMENT ON COLUMN galaxy.job_progress.rows_processed IS 'Training rows of the run';
COMMENT ON COLUMN galaxy.job_progress.loss IS 'Training loss reported by the algorithm (NULL when it reports none)';
COMMENT ON COLUMN galaxy.job_progress.val_loss IS 'Validation loss reported by the algorithm';
COMMENT ON COLUMN galaxy.job_progress.metric IS 'Metric reported by the algorithm (e.g. validation accuracy or R²)';
COMMENT ON COLUMN galaxy.job_progress.learning_rate IS 'Learning rate (or step length) in use';

-- models (imported_from is commented in 60_registry.sql)
COMMENT ON COLUMN galaxy.models.id IS 'Model id: galaxy.predict(id, ...) uses this model';
COMMENT ON COLUMN galaxy.models.project_id IS 'The project this model is a version of';
COMMENT ON COLUMN galaxy.models.version IS 'Semantic version within the project: major.minor.patch';
COMMENT ON COLUMN galaxy.models.version_major IS 'Major version: bumped when the input schema changes';
COMMENT ON COLUMN galaxy.models.version_minor IS 'Minor version: bumped on a retrain with the same input schema';
COMMENT ON COLUMN galaxy.models.version_patch IS 'Patch version: a derived variant of a model (compression, recalibration)';
COMMENT ON COLUMN galaxy.models.status IS 'training, ready, deployed or archived; the only column that changes once the model is trained';
COMMENT ON COLUMN galaxy.models.algorithm IS 'Algorithm name (aliases resolved: mlp is neural_network)';
COMMENT ON COLUMN galaxy.models.task IS 'regression, classification or clustering';
COMMENT ON COLUMN galaxy.models.model IS 'The trained model value (galaxy.model; galaxy.describe() reads it); not granted to galaxy_reader';
COMMENT ON COLUMN galaxy.models.hyperparams IS 'Effective hyperparameters: every one, defaults filled in';
COMMENT ON COLUMN galaxy.models.hyperparams_given IS 'Hyperparameters as passed to train()';
COMMENT ON COLUMN galaxy.models.preprocess IS 'The preprocess option passed to train() (NULL: the defaults); what was fitted is in galaxy.describe(model)';
COMMENT ON COLUMN galaxy.models.metrics IS 'Metrics on the held-out rows (or the training rows with test_size 0) and run statistics, as jsonb';
COMMENT ON COLUMN galaxy.models.features IS 'Input columns, in order; predict matches a row''s columns to them by name';
COMMENT ON COLUMN galaxy.models.feature_types IS 'Type of each input column at training';
COMMENT ON COLUMN galaxy.models.target IS 'Column the model predicts (NULL for clustering)';
COMMENT ON COLUMN galaxy.models.label_type IS 'Type of the target column (the labels keep it)';
COMMENT ON COLUMN galaxy.models.relation IS 'Schema-qualified name of the relation trained on';
COMMENT ON COLUMN galaxy.models.dataset_id IS 'The registered dataset trained on, if any';
COMMENT ON COLUMN galaxy.models.training_rows IS 'Rows the model was fitted on';
COMMENT ON COLUMN galaxy.models.test_rows IS 'Held-out rows the metrics were measured on';
COMMENT ON COLUMN galaxy.models.schema_fingerprint IS 'SHA-256 (hex) of the input schema (names, types, widths): decides minor or major version';
COMMENT ON COLUMN galaxy.models.data_fingerprint IS 'Checksum of the training data (values, labels, categories): the same data gives the same fingerprint';
COMMENT ON COLUMN galaxy.models.training_profile IS 'Profile of the training rows, the baseline of galaxy.drift(): format version, per numeric feature 101 percentile edges with the count in each bin and the deciles, per categorical feature the frequencies of its 100 most frequent categories, and the same for the target (the baseline of the predictions); NULL for models trained before profiles';
COMMENT ON COLUMN galaxy.models.seed IS 'Seed of every random choice (split, initialisation, sampling)';
COMMENT ON COLUMN galaxy.models.size_bytes IS 'Stored size of the model value in bytes';
COMMENT ON COLUMN galaxy.models.trained_by IS 'Role that trained (or imported) the model';
COMMENT ON COLUMN galaxy.models.job_id IS 'Background job that trained the model (NULL for train() in a session)';
COMMENT ON COLUMN galaxy.models.parent_id IS 'The model this one succeeds: the project''s previous version when it was registered (no foreign key: a trigger clears it when that model is deleted)';
COMMENT ON COLUMN galaxy.models.created_at IS 'When the model was registered';

-- deployments
COMMENT ON COLUMN galaxy.deployments.id IS 'Deployment id';
COMMENT ON COLUMN galaxy.deployments.project_id IS 'The project served';
COMMENT ON COLUMN galaxy.deployments.model_id IS 'The model that serves';
COMMENT ON COLUMN galaxy.deployments.traffic IS 'Share of the traffic: 1.0 is the primary, less a canary';
COMMENT ON COLUMN galaxy.deployments.strategy IS 'How the model was chosen: specific, best, latest, rollback, or train''s deploy policy';
COMMENT ON COLUMN galaxy.deployments.reason IS 'Reason given to deploy or rollback';
COMMENT ON COLUMN galaxy.deployments.deployed_at IS 'When the deployment started to serve (taken under the project''s deployment lock)';
COMMENT ON COLUMN galaxy.deployments.deployed_by IS 'Role that deployed';
COMMENT ON COLUMN galaxy.deployments.retired_at IS 'When it stopped serving (NULL while it serves)';
COMMENT ON COLUMN galaxy.deployments.retired_by IS 'Role whose deployment retired it';

-- audit_log
COMMENT ON COLUMN galaxy.audit_log.id IS 'Position in the hash chain (assigned under the chain lock; gaps are rolled-back rows)';
COMMENT ON COLUMN galaxy.audit_log.at IS 'clock_timestamp() when the row was written';
COMMENT ON COLUMN galaxy.audit_log.session_user_name IS 'Login role of the session';
COMMENT ON COLUMN galaxy.audit_log.current_user_name IS 'Role acting (differs from the login role after SET ROLE)';
COMMENT ON COLUMN galaxy.audit_log.client_addr IS 'Client address (NULL for Unix sockets and background workers)';
COMMENT ON COLUMN galaxy.audit_log.application_name IS 'application_name of the session';
COMMENT ON COLUMN galaxy.audit_log.action IS 'What happened: create_dataset, train, submit, deploy, approve, export, ...';
COMMENT ON COLUMN galaxy.audit_log.object_type IS 'Kind of object acted on: project, model, dataset, job, approval, ...';
COMMENT ON COLUMN galaxy.audit_log.object_id IS 'Id or name of the object acted on';
COMMENT ON COLUMN galaxy.audit_log.details IS 'What else the call recorded, as jsonb (at most 8 kB; larger details are kept as size and SHA-256)';
COMMENT ON COLUMN galaxy.audit_log.txid IS 'Transaction id (pg_current_xact_id()) of the call';
COMMENT ON COLUMN galaxy.audit_log.prev_hash IS 'Hash of the previous row (32 zero bytes for the first, the anchor after a purge)';
COMMENT ON COLUMN galaxy.audit_log.hash IS 'sha256(prev_hash || galaxy.audit_canonical(row))';

-- audit_purges
COMMENT ON COLUMN galaxy.audit_purges.id IS 'Purge id';
COMMENT ON COLUMN galaxy.audit_purges.purged_at IS 'When galaxy.purge_audit() ran';
COMMENT ON COLUMN galaxy.audit_purges.purged_by IS 'Superuser who ran it';
COMMENT ON COLUMN galaxy.audit_purges.before IS 'The before argument: rows older than this were deleted';
COMMENT ON COLUMN galaxy.audit_purges.deleted_rows IS 'Audit rows deleted';
COMMENT ON COLUMN galaxy.audit_purges.anchor_id IS 'Id of the last deleted audit row';
COMMENT ON COLUMN galaxy.audit_purges.anchor_hash IS 'Hash of the last deleted audit row: the oldest remaining row chains to it';

-- project_grants
COMMENT ON COLUMN galaxy.project_grants.project_id IS 'The project';
COMMENT ON COLUMN galaxy.project_grants.grantee IS 'Role name given the privilege, or public';
COMMENT ON COLUMN galaxy.project_grants.privilege IS 'read, train, deploy or all (each includes the ones before)';
COMMENT ON COLUMN galaxy.project_grants.granted_by IS 'Role that granted it';
COMMENT ON COLUMN galaxy.project_grants.granted_at IS 'When it was granted';

-- approvals
COMMENT ON COLUMN galaxy.approvals.id IS 'Request id, returned by galaxy.request_deployment()';
COMMENT ON COLUMN galaxy.approvals.project_id IS 'The model''s project';
COMMENT ON COLUMN galaxy.approvals.model_id IS 'The model to deploy';
COMMENT ON COLUMN galaxy.approvals.requested_by IS 'Role that requested (current role)';
COMMENT ON COLUMN galaxy.approvals.requested_session_user IS 'Login role of the requesting session (an approver may be neither)';
COMMENT ON COLUMN galaxy.approvals.requested_at IS 'When the request was made';
COMMENT ON COLUMN galaxy.approvals.note IS 'The requester''s note';
COMMENT ON COLUMN galaxy.approvals.state IS 'pending, approved, rejected, expired or used (galaxy.approval_requests shows the effective state)';
COMMENT ON COLUMN galaxy.approvals.decided_by IS 'Approver who approved or rejected (never the requester)';
COMMENT ON COLUMN galaxy.approvals.decided_at IS 'When it was decided';
COMMENT ON COLUMN galaxy.approvals.decision_note IS 'The approver''s note';
COMMENT ON COLUMN galaxy.approvals.expires_at IS 'A pending request, then an approval, is valid until this time (galaxy.approval_ttl)';
COMMENT ON COLUMN galaxy.approvals.used_at IS 'When a deploy used the approval';
COMMENT ON COLUMN galaxy.approvals.used_by IS 'Role whose deploy used it';
COMMENT ON COLUMN galaxy.approvals.deployment_id IS 'The deployment that used it';

-- views: algorithms, algorithm_hyperparameters
COMMENT ON COLUMN galaxy.algorithms.name IS 'Algorithm name, for train(algorithm => ...)';
COMMENT ON COLUMN galaxy.algorithms.tasks IS 'Tasks it can learn';
COMMENT ON COLUMN galaxy.algorithms.description IS 'What it fits';
COMMENT ON COLUMN galaxy.algorithms.default_scaling IS 'Whether numeric inputs are standard-scaled unless preprocess says otherwise';
COMMENT ON COLUMN galaxy.algorithms.hyperparameters IS 'Every hyperparameter as jsonb: type, default, min, max, min_exclusive, choices, description';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.algorithm IS 'Algorithm name';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.name IS 'Hyperparameter name, a key of train(hyperparams => ...)';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.type IS 'integer, float, boolean, choice or integer[]';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.default_value IS 'Value used when it is not given, as text';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.min_value IS 'Smallest allowed value (numbers; for integer[] each element)';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.max_value IS 'Largest allowed value';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.min_exclusive IS 'Whether min_value itself is excluded';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.choices IS 'Allowed values of a choice, comma-separated';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.description IS 'What it does';

-- view: approval_requests
COMMENT ON COLUMN galaxy.approval_requests.id IS 'Request id';
COMMENT ON COLUMN galaxy.approval_requests.project IS 'Project name';
COMMENT ON COLUMN galaxy.approval_requests.model IS 'Model id to deploy';
COMMENT ON COLUMN galaxy.approval_requests.version IS 'Its version';
COMMENT ON COLUMN galaxy.approval_requests.state IS 'Effective state: pending, approved, rejected, expired (past expires_at) or used';
COMMENT ON COLUMN galaxy.approval_requests.requested_by IS 'Role that requested';
COMMENT ON COLUMN galaxy.approval_requests.requested_at IS 'When it was requested';
COMMENT ON COLUMN galaxy.approval_requests.note IS 'The requester''s note';
COMMENT ON COLUMN galaxy.approval_requests.decided_by IS 'Approver who decided';
COMMENT ON COLUMN galaxy.approval_requests.decided_at IS 'When it was decided';
COMMENT ON COLUMN galaxy.approval_requests.decision_note IS 'The approver''s note';
COMMENT ON COLUMN galaxy.approval_requests.expires_at IS 'Valid until';
COMMENT ON COLUMN galaxy.approval_requests.used_by IS 'Role whose deploy used the approval';
COMMENT ON COLUMN galaxy.approval_requests.used_at IS 'When it was used';
COMMENT ON COLUMN galaxy.approval_requests.deployment_id IS 'The deployment that used it';

-- view: deployed_models
COMMENT ON COLUMN galaxy.deployed_models.project IS 'Project name';
COMMENT ON COLUMN galaxy.deployed_models.project_id IS 'Project id';
COMMENT ON COLUMN galaxy.deployed_models.model IS 'Model id serving';
COMMENT ON COLUMN galaxy.deployed_models.version IS 'Its version';
COMMENT ON COLUMN galaxy.deployed_models.algorithm IS 'Its algorithm';
COMMENT ON COLUMN galaxy.deployed_models.task IS 'Its task';
COMMENT ON COLUMN galaxy.deployed_models.traffic IS 'Traffic weight: 1.0 for the primary, the canary''s share otherwise';
COMMENT ON COLUMN galaxy.deployed_models.is_primary IS 'Whether it is the primary (it serves what the canaries leave)';
COMMENT ON COLUMN galaxy.deployed_models.strategy IS 'How it was deployed: specific, best, latest, rollback, or train''s deploy policy';
COMMENT ON COLUMN galaxy.deployed_models.reason IS 'Reason given when deploying';
COMMENT ON COLUMN galaxy.deployed_models.deployed_at IS 'Serving since';
COMMENT ON COLUMN galaxy.deployed_models.deployed_by IS 'Role that deployed it';
COMMENT ON COLUMN galaxy.deployed_models.trained_by IS 'Role that trained it';
COMMENT ON COLUMN galaxy.deployed_models.trained_at IS 'When it was registered';
COMMENT ON COLUMN galaxy.deployed_models.deployment_id IS 'Row of galaxy.deployments';

-- view: inference_routes
COMMENT ON COLUMN galaxy.inference_routes.project IS 'Project name';
COMMENT ON COLUMN galaxy.inference_routes.model IS 'Model id';
COMMENT ON COLUMN galaxy.inference_routes.version IS 'Its version';
COMMENT ON COLUMN galaxy.inference_routes.route IS 'primary or canary';
COMMENT ON COLUMN galaxy.inference_routes.traffic_share IS 'Share of the predictions it answers (the primary takes what the canaries leave)';

-- view: jobs_overview
COMMENT ON COLUMN galaxy.jobs_overview.job_id IS 'Job id';
COMMENT ON COLUMN galaxy.jobs_overview.project IS 'Project name';
COMMENT ON COLUMN galaxy.jobs_overview.algorithm IS 'Algorithm requested';
COMMENT ON COLUMN galaxy.jobs_overview.relation IS 'Relation to train on, as submitted';
COMMENT ON COLUMN galaxy.jobs_overview.target IS 'Target column, as submitted';
COMMENT ON COLUMN galaxy.jobs_overview.state IS 'queued, running, succeeded, failed or cancelled';
COMMENT ON COLUMN galaxy.jobs_overview.owner IS 'Role that submitted it (the worker runs as this role)';
COMMENT ON COLUMN galaxy.jobs_overview.priority IS 'Higher runs first';
COMMENT ON COLUMN galaxy.jobs_overview.attempts IS 'Attempts started';
COMMENT ON COLUMN galaxy.jobs_overview.retries IS 'Extra attempts allowed after a failure';
COMMENT ON COLUMN galaxy.jobs_overview.timeout IS 'Time limit of each attempt (NULL: galaxy.job_timeout)';
COMMENT ON COLUMN galaxy.jobs_overview.submitted_at IS 'When it was queued';
COMMENT ON COLUMN galaxy.jobs_overview.started_at IS 'When the last attempt started';
COMMENT ON COLUMN galaxy.jobs_overview.finished_at IS 'When it finished';
COMMENT ON COLUMN galaxy.jobs_overview.waiting IS 'Time in the queue so far (queued jobs only)';
COMMENT ON COLUMN galaxy.jobs_overview.run_time IS 'Duration of the last attempt (so far, for a running job)';
COMMENT ON COLUMN galaxy.jobs_overview.model_id IS 'Model the job registered';
COMMENT ON COLUMN galaxy.jobs_overview.model_version IS 'Its version';
COMMENT ON COLUMN galaxy.jobs_overview.worker_pid IS 'Process id of the training worker while it runs';
COMMENT ON COLUMN galaxy.jobs_overview.error_message IS 'Error of the last failed attempt';
COMMENT ON COLUMN galaxy.jobs_overview.error_sqlstate IS 'Its SQLSTATE';
COMMENT ON COLUMN galaxy.jobs_overview.error_context IS 'Its DETAIL, HINT and CONTEXT';

-- view: training_progress
COMMENT ON COLUMN galaxy.training_progress.job_id IS 'Job id (NULL for a galaxy.train() session)';
COMMENT ON COLUMN galaxy.training_progress.project IS 'Project name';
COMMENT ON COLUMN galaxy.training_progress.algorithm IS 'Algorithm being trained';
COMMENT ON COLUMN galaxy.training_progress.state IS 'training (a session), queued, running, succeeded, failed or cancelled';
COMMENT ON COLUMN galaxy.training_progress.owner IS 'Role training';
COMMENT ON COLUMN galaxy.training_progress.pid IS 'Process training: a galaxy training worker, or the session''s backend';
COMMENT ON COLUMN galaxy.training_progress.phase IS 'load, preprocess, cross-validate, fit, evaluate, register; starting, or the final state, for jobs not running live';
COMMENT ON COLUMN galaxy.training_progress.iteration IS 'Iteration (round, epoch) of the current loop';
COMMENT ON COLUMN galaxy.training_progress.total IS 'Iterations planned in the current loop';
COMMENT ON COLUMN galaxy.training_progress.percent IS '100 x iteration / total';
COMMENT ON COLUMN galaxy.training_progress.progress_bar IS 'percent as a text bar, [#######.............] 35%';
COMMENT ON COLUMN galaxy.training_progress.rows IS 'Training rows';
COMMENT ON COLUMN galaxy.training_progress.loss IS 'Training loss reported by the algorithm';
COMMENT ON COLUMN galaxy.training_progress.val_loss IS 'Validation loss reported by the algorithm';
COMMENT ON COLUMN galaxy.training_progress.metric IS 'Metric reported by the algorithm';
COMMENT ON COLUMN galaxy.training_progress.learning_rate IS 'Learning rate in use';
COMMENT ON COLUMN galaxy.training_progress.elapsed IS 'Time since the run started';
COMMENT ON COLUMN galaxy.training_progress.eta IS 'Estimated time left in the current loop';
COMMENT ON COLUMN galaxy.training_progress.started_at IS 'Start of the run';
COMMENT ON COLUMN galaxy.training_progress.updated_at IS 'Last progress report';
COMMENT ON COLUMN galaxy.training_progress.rows_per_second IS 'Rows processed per second so far (NULL for queued and finished jobs)';

-- deployment quality gates (65_gates.sql)
COMMENT ON COLUMN galaxy.deployment_gates.id IS 'Gate id';
COMMENT ON COLUMN galaxy.deployment_gates.project_id IS 'The project the gate belongs to; NULL: a default every project has';
COMMENT ON COLUMN galaxy.deployment_gates.metric IS 'What is compared: a key of the model''s metrics, size_bytes, predict_p50_ms or predict_p99_ms';
COMMENT ON COLUMN galaxy.deployment_gates.op IS 'The comparison the value must satisfy: >=, >, <= or <';
COMMENT ON COLUMN galaxy.deployment_gates.threshold IS 'The finite number the value is compared with';
COMMENT ON COLUMN galaxy.deployment_gates.set_by IS 'Role that set (or last changed) the gate';
COMMENT ON COLUMN galaxy.deployment_gates.set_at IS 'When the gate was set or last changed';

COMMENT ON COLUMN galaxy.model_latency.model_id IS 'The model measured';
COMMENT ON COLUMN galaxy.model_latency.project_id IS 'The model''s project';
COMMENT ON COLUMN galaxy.model_latency.p50_ms IS 'Median single-row predict time, milliseconds';
COMMENT ON COLUMN galaxy.model_latency.p99_ms IS '99th percentile of single-row predict time, milliseconds';
COMMENT ON COLUMN galaxy.model_latency.sample_rows IS 'Rows predicted one at a time for the measurement';
COMMENT ON COLUMN galaxy.model_latency.source IS 'Where the rows came from: relation (the training relation) or synthetic';
COMMENT ON COLUMN galaxy.model_latency.measured_by IS 'Role whose call measured it';
COMMENT ON COLUMN galaxy.model_latency.measured_at IS 'When it was measured';

COMMENT ON COLUMN galaxy.gates.project IS 'Project name, or * for a default every project has';
COMMENT ON COLUMN galaxy.gates.project_id IS 'Project id (NULL for a default)';
COMMENT ON COLUMN galaxy.gates.scope IS 'project (the project''s own gate) or default';
COMMENT ON COLUMN galaxy.gates.metric IS 'What is compared: a metrics key, size_bytes, predict_p50_ms or predict_p99_ms';
COMMENT ON COLUMN galaxy.gates.op IS 'Comparison: >=, >, <= or <';
COMMENT ON COLUMN galaxy.gates.threshold IS 'The number the value is compared with';
COMMENT ON COLUMN galaxy.gates.gate IS 'The gate as text, e.g. accuracy >= 0.975';
COMMENT ON COLUMN galaxy.gates.set_by IS 'Role that set the gate';
COMMENT ON COLUMN galaxy.gates.set_at IS 'When the gate was set';

COMMENT ON COLUMN galaxy.gate_results.project IS 'Project name';
COMMENT ON COLUMN galaxy.gate_results.project_id IS 'Project id';
COMMENT ON COLUMN galaxy.gate_results.model IS 'Model id';
COMMENT ON COLUMN galaxy.gate_results.version IS 'Model version (major.minor.patch)';
COMMENT ON COLUMN galaxy.gate_results.model_status IS 'The model''s registry status';
COMMENT ON COLUMN galaxy.gate_results.metric IS 'The gated metric';
COMMENT ON COLUMN galaxy.gate_results.op IS 'The gate''s comparison';
COMMENT ON COLUMN galaxy.gate_results.threshold IS 'The gate''s threshold';
COMMENT ON COLUMN galaxy.gate_results.scope IS 'project (the project''s own gate), default, or compression (a compressed model''s accuracy guard: metric_drop <= max_metric_drop)';
COMMENT ON COLUMN galaxy.gate_results.value IS 'The model''s value of the metric (NULL: missing or not measured)';
COMMENT ON COLUMN galaxy.gate_results.value_source IS 'Where the value comes from: metrics, model (size_bytes), on_demand_relation or on_demand_synthetic';
COMMENT ON COLUMN galaxy.gate_results.status IS 'passed, failed, missing (no such metric: fails) or not_measured (latency not measured yet)';
COMMENT ON COLUMN galaxy.gate_results.passed IS 'Whether the model passes the gate (NULL while its latency is not measured)';
COMMENT ON COLUMN galaxy.gate_results.margin IS 'How far the value is on the passing side of the threshold; negative: how much it misses by';
COMMENT ON COLUMN galaxy.gate_results.gate IS 'The gate as text, e.g. accuracy >= 0.975';

-- galaxy.searches, galaxy.trials (67_search.sql) and models.search_id
COMMENT ON COLUMN galaxy.searches.id IS 'Search id; galaxy.trials.search_id and galaxy.models.search_id point here';
COMMENT ON COLUMN galaxy.searches.project_id IS 'The project the search trains for';
COMMENT ON COLUMN galaxy.searches.algorithm IS 'The algorithm whose hyperparameters are searched (auto: each trial names its own)';
COMMENT ON COLUMN galaxy.searches.strategy IS 'grid (every combination), random (independent draws), bayesian (tree-structured Parzen estimator) halving (successive halving of the iteration count) or auto (every suitable algorithm, algorithm => ''auto'')';
COMMENT ON COLUMN galaxy.searches.space IS 'The search_space as given: lists for grid; lists, uniform, log_uniform, int and choice for random and bayesian';
COMMENT ON COLUMN galaxy.searches.budget IS 'Number of trials planned (search_trials, or the grid''s size)';
COMMENT ON COLUMN galaxy.searches.metric IS 'The metric trials are compared on (search_metric, default the task''s key metric)';
COMMENT ON COLUMN galaxy.searches.higher_is_better IS 'Whether a larger value of the metric is better';
COMMENT ON COLUMN galaxy.searches.folds IS 'k of the k-fold cross-validation on the training rows; NULL: one validation split of a quarter of the training rows';
COMMENT ON COLUMN galaxy.searches.seed IS 'The training seed: splits, folds and the proposals of random and bayesian search follow from it';
COMMENT ON COLUMN galaxy.searches.state IS 'running, succeeded (the best configuration was refitted and registered) or failed';
COMMENT ON COLUMN galaxy.searches.trials_done IS 'Trials finished so far (succeeded or failed)';
COMMENT ON COLUMN galaxy.searches.trials_failed IS 'Trials that raised an error (recorded in galaxy.trials; the search went on)';
COMMENT ON COLUMN galaxy.searches.best_trial IS 'Number of the best trial so far (galaxy.trials.trial)';
COMMENT ON COLUMN galaxy.searches.best_score IS 'The best trial''s mean score on the metric';
COMMENT ON COLUMN galaxy.searches.best_hyperparams IS 'The best trial''s values of the searched hyperparameters';
COMMENT ON COLUMN galaxy.searches.model_id IS 'The model registered from the best configuration, refitted on all training rows';
COMMENT ON COLUMN galaxy.searches.job_id IS 'The background job that ran the search, NULL for galaxy.train()';
COMMENT ON COLUMN galaxy.searches.started_by IS 'Role that started the search';
COMMENT ON COLUMN galaxy.searches.started_at IS 'When the search started';
COMMENT ON COLUMN galaxy.searches.finished_at IS 'When the search finished, NULL while it runs';
COMMENT ON COLUMN galaxy.trials.search_id IS 'The search the trial belongs to';
COMMENT ON COLUMN galaxy.trials.trial IS 'Trial number within the search, from 1, in the order trials were proposed';
COMMENT ON COLUMN galaxy.trials.rung IS 'Rung of a halving search (0 = the first, fewest iterations; the last fits the full count), NULL for other strategies';
COMMENT ON COLUMN galaxy.trials.project_id IS 'The search''s project';
COMMENT ON COLUMN galaxy.trials.hyperparams IS 'The trial''s values of the searched hyperparameters (the others are the search''s hyperparams or defaults)';
COMMENT ON COLUMN galaxy.trials.state IS 'succeeded, failed (the error is in error_message; the search went on) or skipped (over max_parameters: not fitted, the reason in error_message)';
COMMENT ON COLUMN galaxy.trials.score IS 'Mean of the search''s metric over the folds (or on the validation split)';
COMMENT ON COLUMN galaxy.trials.score_std IS 'Population standard deviation of the metric over the folds (0 with one validation split)';
COMMENT ON COLUMN galaxy.trials.fold_scores IS 'The metric on each fold, in fold order';
COMMENT ON COLUMN galaxy.trials.metrics IS 'Mean of every metric over the folds';
COMMENT ON COLUMN galaxy.trials.fit_seconds IS 'Seconds the trial took: preprocessing, fits and scoring of all its folds';
COMMENT ON COLUMN galaxy.trials.error_message IS 'Why a failed trial failed';
COMMENT ON COLUMN galaxy.trials.error_sqlstate IS 'SQLSTATE of a failed trial''s error';
COMMENT ON COLUMN galaxy.trials.finished_at IS 'When the trial finished';
COMMENT ON COLUMN galaxy.searches.objective IS 'What ranks the trials: accuracy (the metric) or accuracy_per_ms (the metric per millisecond of predict latency per row)';
COMMENT ON COLUMN galaxy.searches.max_parameters IS 'Trials whose model would have more trainable parameters are skipped, not fitted (NULL: no limit)';
COMMENT ON COLUMN galaxy.searches.trials_skipped IS 'Trials skipped by max_parameters (counted in trials_done, not in trials_failed)';
COMMENT ON COLUMN galaxy.trials.algorithm IS 'The algorithm the trial fitted (differs between trials of an algorithm => ''auto'' search)';
COMMENT ON COLUMN galaxy.trials.architecture IS 'A neural network''s architecture hyperparameters as resolved (hidden layers or layers, activation, dropout, batch norm), NULL for other algorithms';
COMMENT ON COLUMN galaxy.trials.parameters IS 'Trainable parameters of the trial''s model (weights and biases), NULL for algorithms that do not count them';
COMMENT ON COLUMN galaxy.trials.predict_ms_per_row IS 'Milliseconds per row the trial''s models took to predict their scored rows (mean over folds; a measurement, it varies between runs)';
COMMENT ON COLUMN galaxy.trials.objective IS 'The value the search ranks the trial by: the score, or score / predict_ms_per_row with search_objective accuracy_per_ms';
COMMENT ON COLUMN galaxy.models.search_id IS 'The hyperparameter search whose best configuration this model is, NULL otherwise';
-- compressions
COMMENT ON COLUMN galaxy.compressions.model_id IS 'The compressed model (galaxy.models.id)';
COMMENT ON COLUMN galaxy.compressions.parent_id IS 'The model it was compressed from (its parent_id)';
COMMENT ON COLUMN galaxy.compressions.project_id IS 'Project of both models';
COMMENT ON COLUMN galaxy.compressions.method IS 'Compression method: int8, prune or distill';
COMMENT ON COLUMN galaxy.compressions.options IS 'Options galaxy.compress was called with';
COMMENT ON COLUMN galaxy.compressions.measured_on IS 'Relation both models were scored on (the parent''s training relation, or options relation)';
COMMENT ON COLUMN galaxy.compressions.main_metric IS 'The task''s main metric (accuracy, r2) the guard compares';
COMMENT ON COLUMN galaxy.compressions.parent_value IS 'The parent''s main metric on those rows';
COMMENT ON COLUMN galaxy.compressions.value IS 'The compressed model''s main metric on those rows';
COMMENT ON COLUMN galaxy.compressions.metric_drop IS 'How much the main metric fell (negative: it rose)';
COMMENT ON COLUMN galaxy.compressions.max_metric_drop IS 'The largest drop the accuracy guard allows (option max_metric_drop)';
COMMENT ON COLUMN galaxy.compressions.parent_size_bytes IS 'Stored size of the parent''s model value';
COMMENT ON COLUMN galaxy.compressions.size_bytes IS 'Stored size of the compressed model value';
COMMENT ON COLUMN galaxy.compressions.parent_predict_p50_ms IS 'The parent''s median single-row predict latency, measured at compression (NULL: not measured)';
COMMENT ON COLUMN galaxy.compressions.predict_p50_ms IS 'The compressed model''s median single-row predict latency (NULL: not measured)';
COMMENT ON COLUMN galaxy.compressions.parent_metrics IS 'Every metric of the parent on the measured rows (the compressed model''s are its galaxy.models.metrics)';
COMMENT ON COLUMN galaxy.compressions.compressed_by IS 'Role that ran galaxy.compress';
COMMENT ON COLUMN galaxy.compressions.compressed_at IS 'When';

-- view: model_compressions
COMMENT ON COLUMN galaxy.model_compressions.project IS 'Project name';
COMMENT ON COLUMN galaxy.model_compressions.project_id IS 'Project id';
COMMENT ON COLUMN galaxy.model_compressions.model IS 'The compressed model';
COMMENT ON COLUMN galaxy.model_compressions.version IS 'Its version (a patch version of the parent''s)';
COMMENT ON COLUMN galaxy.model_compressions.parent IS 'The model it was compressed from';
COMMENT ON COLUMN galaxy.model_compressions.parent_version IS 'The parent''s version (NULL once the parent is deleted)';
COMMENT ON COLUMN galaxy.model_compressions.algorithm IS 'Algorithm of both models';
COMMENT ON COLUMN galaxy.model_compressions.method IS 'Compression method';
COMMENT ON COLUMN galaxy.model_compressions.options IS 'Options galaxy.compress was called with';
COMMENT ON COLUMN galaxy.model_compressions.measured_on IS 'Relation both models were scored on';
COMMENT ON COLUMN galaxy.model_compressions.main_metric IS 'The main metric the guard compares';
COMMENT ON COLUMN galaxy.model_compressions.parent_value IS 'The parent''s main metric';
COMMENT ON COLUMN galaxy.model_compressions.value IS 'The compressed model''s main metric';
COMMENT ON COLUMN galaxy.model_compressions.metric_drop IS 'How much the main metric fell';
COMMENT ON COLUMN galaxy.model_compressions.max_metric_drop IS 'The largest drop the guard allows';
COMMENT ON COLUMN galaxy.model_compressions.guard_passed IS 'Whether metric_drop <= max_metric_drop (false: the deployment gates refuse the model)';
COMMENT ON COLUMN galaxy.model_compressions.parent_size_bytes IS 'Stored size of the parent';
COMMENT ON COLUMN galaxy.model_compressions.size_bytes IS 'Stored size of the compressed model';
COMMENT ON COLUMN galaxy.model_compressions.size_ratio IS 'size_bytes / parent_size_bytes';
COMMENT ON COLUMN galaxy.model_compressions.parent_predict_p50_ms IS 'The parent''s median single-row predict latency';
COMMENT ON COLUMN galaxy.model_compressions.predict_p50_ms IS 'The compressed model''s median single-row predict latency';
COMMENT ON COLUMN galaxy.model_compressions.speedup IS 'parent_predict_p50_ms / predict_p50_ms';
COMMENT ON COLUMN galaxy.model_compressions.status IS 'The compressed model''s status';
COMMENT ON COLUMN galaxy.model_compressions.compressed_by IS 'Role that ran galaxy.compress';
COMMENT ON COLUMN galaxy.model_compressions.compressed_at IS 'When';
-- monitoring (75_monitoring.sql)
COMMENT ON COLUMN galaxy.drift_thresholds.project_id IS 'The project these thresholds apply to';
COMMENT ON COLUMN galaxy.drift_thresholds.psi_warning IS 'PSI from which a feature''s status is warning';
COMMENT ON COLUMN galaxy.drift_thresholds.psi_drift IS 'PSI from which a feature''s status is drift (at least psi_warning)';
COMMENT ON COLUMN galaxy.drift_thresholds.set_by IS 'Role that set the thresholds';
COMMENT ON COLUMN galaxy.drift_thresholds.set_at IS 'When the thresholds were set';
COMMENT ON COLUMN galaxy.drift_history.id IS 'Row id';
COMMENT ON COLUMN galaxy.drift_history.computed_at IS 'When galaxy.drift() computed it (the transaction''s start)';
COMMENT ON COLUMN galaxy.drift_history.computed_by IS 'Role that called galaxy.drift()';
COMMENT ON COLUMN galaxy.drift_history.project_id IS 'The project';
COMMENT ON COLUMN galaxy.drift_history.model_id IS 'The model whose features and predictions were compared (deployed, else newest)';
COMMENT ON COLUMN galaxy.drift_history.relation IS 'The relation compared, schema-qualified';
COMMENT ON COLUMN galaxy.drift_history.baseline IS 'training (the model''s training profile) or the baseline relation, schema-qualified';
COMMENT ON COLUMN galaxy.drift_history.feature IS 'Feature name, or (prediction) for the model''s predictions';
COMMENT ON COLUMN galaxy.drift_history.kind IS 'numeric, categorical or prediction';
COMMENT ON COLUMN galaxy.drift_history.rows IS 'Rows of the relation';
COMMENT ON COLUMN galaxy.drift_history.baseline_rows IS 'Rows of the baseline (training rows, or the baseline relation''s)';
COMMENT ON COLUMN galaxy.drift_history.null_fraction IS 'Share of NULLs in the relation';
COMMENT ON COLUMN galaxy.drift_history.baseline_null_fraction IS 'Share of NULLs in the baseline';
COMMENT ON COLUMN galaxy.drift_history.psi IS 'Population stability index on the baseline deciles (numeric) or categories';
COMMENT ON COLUMN galaxy.drift_history.ks_statistic IS 'Kolmogorov-Smirnov statistic at the baseline percentiles (numeric only)';
COMMENT ON COLUMN galaxy.drift_history.ks_p_value IS 'Asymptotic p-value of the Kolmogorov-Smirnov statistic (numeric only)';
COMMENT ON COLUMN galaxy.drift_history.js_distance IS 'Jensen-Shannon distance (base 2, 0 to 1)';
COMMENT ON COLUMN galaxy.drift_history.linf_distance IS 'Largest difference of a category''s share (categorical only)';
COMMENT ON COLUMN galaxy.drift_history.status IS 'ok, warning or drift: the PSI against the thresholds in force';
COMMENT ON COLUMN galaxy.inference_stats.model_id IS 'The model that served the calls';
COMMENT ON COLUMN galaxy.inference_stats.project IS 'Its project';
COMMENT ON COLUMN galaxy.inference_stats.version IS 'Its version';
COMMENT ON COLUMN galaxy.inference_stats.algorithm IS 'Its algorithm';
COMMENT ON COLUMN galaxy.inference_stats.calls IS 'predict, predict_proba and predict_label calls since the last reset';
COMMENT ON COLUMN galaxy.inference_stats.rows IS 'Rows predicted (each call predicts one row)';
COMMENT ON COLUMN galaxy.inference_stats.errors IS 'Calls that raised an ERROR once the model was known (bad input, no finite prediction)';
COMMENT ON COLUMN galaxy.inference_stats.mean_ms IS 'Mean latency of a call inside the server, milliseconds';
COMMENT ON COLUMN galaxy.inference_stats.p50_ms IS 'Median latency, milliseconds (from the histogram: within 9 %)';
COMMENT ON COLUMN galaxy.inference_stats.p95_ms IS '95th percentile of the latency, milliseconds (within 9 %)';
COMMENT ON COLUMN galaxy.inference_stats.p99_ms IS '99th percentile of the latency, milliseconds (within 9 %)';
COMMENT ON COLUMN galaxy.inference_stats.max_ms IS 'Largest latency, milliseconds';
COMMENT ON COLUMN galaxy.inference_stats.total_ms IS 'Sum of the measured latencies, milliseconds';
COMMENT ON COLUMN galaxy.inference_stats.timed_calls IS 'Calls whose latency was measured: the first of each transaction and 1 in 16 after it (all of them for single-row predicts); the latency columns describe these';
COMMENT ON COLUMN galaxy.inference_stats.stats_since IS 'When the entry was created (first call after a reset, restart or eviction)';
COMMENT ON COLUMN galaxy.inference_stats.last_call IS 'When calls were last added (end of the calling transaction)';
COMMENT ON COLUMN galaxy.health_status.preloaded IS 'Whether galaxy is in shared_preload_libraries (background jobs and statistics need it)';
COMMENT ON COLUMN galaxy.health_status.launcher_pid IS 'Process id of the job launcher (NULL when it is not running)';
COMMENT ON COLUMN galaxy.health_status.launcher_alive IS 'Whether the launcher process is alive';
COMMENT ON COLUMN galaxy.health_status.workers_busy IS 'Training workers running jobs';
COMMENT ON COLUMN galaxy.health_status.workers_max IS 'galaxy.max_workers';
COMMENT ON COLUMN galaxy.health_status.workers_free IS 'Workers that could start a job now';
COMMENT ON COLUMN galaxy.health_status.queue_depth IS 'Queued jobs (that the caller may see)';
COMMENT ON COLUMN galaxy.health_status.jobs_running IS 'Running jobs';
COMMENT ON COLUMN galaxy.health_status.jobs_failed_last_hour IS 'Jobs that failed in the last hour';
COMMENT ON COLUMN galaxy.health_status.oldest_queued_at IS 'When the oldest queued job was submitted';
COMMENT ON COLUMN galaxy.health_status.inference_stats_models IS 'Models tracked by galaxy.inference_stats in the whole server';
COMMENT ON COLUMN galaxy.health_status.inference_stats_max IS 'galaxy.inference_stats_max';
COMMENT ON COLUMN galaxy.health_status.inference_stats_bytes IS 'Shared memory of the inference statistics';
COMMENT ON COLUMN galaxy.health_status.projects_serving IS 'Projects with a primary deployed model';
COMMENT ON COLUMN galaxy.health_status.drift_last_computed_at IS 'When galaxy.drift() last ran';
COMMENT ON COLUMN galaxy.health_status.features_drifting IS 'Features whose last drift status is drift';
COMMENT ON COLUMN galaxy.health_status.checked_at IS 'When the row was computed';
COMMENT ON COLUMN galaxy.health_status.alerts_open IS 'Alerts not yet resolved';
COMMENT ON COLUMN galaxy.health_status.alerts_critical_open IS 'Critical alerts not yet resolved';
COMMENT ON COLUMN galaxy.health_status.schedules_overdue IS 'Enabled schedules overdue by more than their period (the time between two runs)';
COMMENT ON COLUMN galaxy.health_status.schedules_failing IS 'Schedules whose last run failed';
COMMENT ON COLUMN galaxy.health_status.scheduler_last_run IS 'When the monitor worker last ran a schedule';
COMMENT ON COLUMN galaxy.model_metrics.model_id IS 'Model id';
COMMENT ON COLUMN galaxy.model_metrics.project IS 'Project name';
COMMENT ON COLUMN galaxy.model_metrics.version IS 'Model version';
COMMENT ON COLUMN galaxy.model_metrics.algorithm IS 'The algorithm that trained the model';
COMMENT ON COLUMN galaxy.model_metrics.task IS 'regression, classification or clustering';
COMMENT ON COLUMN galaxy.model_metrics.split IS 'Where the metric was measured: test or training, or the nested group it comes from';
COMMENT ON COLUMN galaxy.model_metrics.metric IS 'Metric name (accuracy, r2, fit_seconds, ...)';
COMMENT ON COLUMN galaxy.model_metrics.value IS 'Its value';
COMMENT ON COLUMN galaxy.model_summary.model_id IS 'Model id';
COMMENT ON COLUMN galaxy.model_summary.project IS 'Project name';
COMMENT ON COLUMN galaxy.model_summary.version IS 'Model version';
COMMENT ON COLUMN galaxy.model_summary.algorithm IS 'The algorithm that trained the model';
COMMENT ON COLUMN galaxy.model_summary.task IS 'regression, classification or clustering';
COMMENT ON COLUMN galaxy.model_summary.status IS 'training, ready, deployed or archived';
COMMENT ON COLUMN galaxy.model_summary.serving IS 'Whether a live deployment serves it (primary or canary)';
COMMENT ON COLUMN galaxy.model_summary.training_rows IS 'Rows it was fitted on';
COMMENT ON COLUMN galaxy.model_summary.test_rows IS 'Held-out rows its metrics were measured on';
COMMENT ON COLUMN galaxy.model_summary.evaluated_on IS 'test or training';
COMMENT ON COLUMN galaxy.model_summary.accuracy IS 'Accuracy (classification)';
COMMENT ON COLUMN galaxy.model_summary.balanced_accuracy IS 'Balanced accuracy (classification)';
COMMENT ON COLUMN galaxy.model_summary.f1_macro IS 'Macro F1 (classification)';
COMMENT ON COLUMN galaxy.model_summary.precision_macro IS 'Macro precision (classification)';
COMMENT ON COLUMN galaxy.model_summary.recall_macro IS 'Macro recall (classification)';
COMMENT ON COLUMN galaxy.model_summary.roc_auc IS 'ROC AUC (classification)';
COMMENT ON COLUMN galaxy.model_summary.log_loss IS 'Log loss (classification)';
COMMENT ON COLUMN galaxy.model_summary.r2 IS 'R squared (regression)';
COMMENT ON COLUMN galaxy.model_summary.rmse IS 'Root mean squared error (regression)';
COMMENT ON COLUMN galaxy.model_summary.mae IS 'Mean absolute error (regression)';
COMMENT ON COLUMN galaxy.model_summary.silhouette IS 'Silhouette (clustering)';
COMMENT ON COLUMN galaxy.model_summary.fit_seconds IS 'Time to fit';
COMMENT ON COLUMN galaxy.model_summary.predict_p50_ms IS 'Median single-row predict latency measured at registration';
COMMENT ON COLUMN galaxy.model_summary.predict_p99_ms IS '99th percentile of that latency';
COMMENT ON COLUMN galaxy.model_summary.size_bytes IS 'Stored size of the model';
COMMENT ON COLUMN galaxy.model_summary.trained_by IS 'Role that trained it';
COMMENT ON COLUMN galaxy.model_summary.created_at IS 'When it was registered';

-- inference_logging
COMMENT ON COLUMN galaxy.inference_logging.project_id IS 'The logged project';
COMMENT ON COLUMN galaxy.inference_logging.sample_rate IS 'Share of the project''s galaxy.predict() calls logged (0 < rate <= 1)';
COMMENT ON COLUMN galaxy.inference_logging.retention IS 'Logged rows older than this are deleted by the monitor worker';
COMMENT ON COLUMN galaxy.inference_logging.set_by IS 'Role that called galaxy.set_logging';
COMMENT ON COLUMN galaxy.inference_logging.set_at IS 'When the setting was made';

-- inference_log
COMMENT ON COLUMN galaxy.inference_log.logged_at IS 'When the prediction was made';
COMMENT ON COLUMN galaxy.inference_log.project_id IS 'Project predicted for';
COMMENT ON COLUMN galaxy.inference_log.model_id IS 'Model that served the prediction';
COMMENT ON COLUMN galaxy.inference_log.prediction IS 'What galaxy.predict() returned';
COMMENT ON COLUMN galaxy.inference_log.features IS 'Raw input values in the model''s input order (NaN: NULL; a categorical input as -(k + 2) with k its category''s index); NULL for models with more than 32 input slots';

-- inference_log_status
COMMENT ON COLUMN galaxy.inference_log_status.buffer_slots IS 'Predictions the shared-memory ring holds (galaxy.inference_log_buffer)';
COMMENT ON COLUMN galaxy.inference_log_status.waiting IS 'Predictions in the ring not yet committed to galaxy.inference_log';
COMMENT ON COLUMN galaxy.inference_log_status.logged IS 'Predictions put into the ring since the server started';
COMMENT ON COLUMN galaxy.inference_log_status.dropped IS 'Predictions not logged because the ring was full, since the server started';
COMMENT ON COLUMN galaxy.inference_log_status.projects_logged IS 'Projects with logging on (visible to the caller)';

-- schedules
COMMENT ON COLUMN galaxy.schedules.id IS 'Schedule id';
COMMENT ON COLUMN galaxy.schedules.name IS 'Unique schedule name';
COMMENT ON COLUMN galaxy.schedules.project_id IS 'Project checked';
COMMENT ON COLUMN galaxy.schedules.kind IS 'What runs (the action of galaxy.schedule): drift (a galaxy.drift check), evaluate (galaxy.evaluate into galaxy.evaluations) or retrain (a training job)';
COMMENT ON COLUMN galaxy.schedules.schedule IS 'Five cron fields (UTC), a macro such as @daily, or "every N seconds|minutes|hours|days"';
COMMENT ON COLUMN galaxy.schedules.relation IS 'Relation checked, schema-qualified; NULL: the project''s logged predictions of the last log_window';
COMMENT ON COLUMN galaxy.schedules.log_window IS 'Window of logged predictions checked when relation is NULL';
COMMENT ON COLUMN galaxy.schedules.psi_warning IS 'PSI warning threshold of the check (NULL: the project''s, else 0.1)';
COMMENT ON COLUMN galaxy.schedules.psi_drift IS 'PSI drift threshold of the check (NULL: the project''s, else 0.25)';
COMMENT ON COLUMN galaxy.schedules.alert_on IS 'Feature status that raises an alert: drift, or warning (warning or drift)';
COMMENT ON COLUMN galaxy.schedules.enabled IS 'Whether it runs (a cron text that no longer fires disables it)';
COMMENT ON COLUMN galaxy.schedules.owner IS 'Role that created the schedule; the check runs as it';
COMMENT ON COLUMN galaxy.schedules.owner_oid IS 'OID of the owner role';
COMMENT ON COLUMN galaxy.schedules.created_at IS 'When the schedule was created';
COMMENT ON COLUMN galaxy.schedules.next_run IS 'When it runs next';
COMMENT ON COLUMN galaxy.schedules.last_run IS 'When it last ran';
COMMENT ON COLUMN galaxy.schedules.last_status IS 'ok, alert (a feature over the thresholds) or failed';
COMMENT ON COLUMN galaxy.schedules.last_error IS 'Error message of the last run when it failed';
COMMENT ON COLUMN galaxy.schedules.last_sqlstate IS 'SQLSTATE of the last run when it failed';
COMMENT ON COLUMN galaxy.schedules.runs IS 'Runs so far';
COMMENT ON COLUMN galaxy.schedules.failures IS 'Runs that failed';
COMMENT ON COLUMN galaxy.schedules.alerts IS 'Runs that found a feature over the thresholds';
COMMENT ON COLUMN galaxy.schedules.options IS 'The options given to galaxy.schedule (drift: log_window, psi_warning, psi_drift, alert_on)';
COMMENT ON COLUMN galaxy.schedules.last_job_id IS 'A retrain schedule: the job its last successful run submitted';

-- alerts
COMMENT ON COLUMN galaxy.alerts.id IS 'Alert id';
COMMENT ON COLUMN galaxy.alerts.raised_at IS 'When it was raised';
COMMENT ON COLUMN galaxy.alerts.project_id IS 'Project concerned';
COMMENT ON COLUMN galaxy.alerts.schedule_id IS 'Schedule that raised it (NULL once the schedule is removed)';
COMMENT ON COLUMN galaxy.alerts.kind IS 'drift (a feature over the thresholds: a drift schedule, or a drift rule), schedule_failed, or the kind of the alert rule that fired: metric_below, latency_above, job_failed, schedule_missed';
COMMENT ON COLUMN galaxy.alerts.severity IS 'critical (a feature''s status is drift) or warning';
COMMENT ON COLUMN galaxy.alerts.message IS 'What happened, in words';
COMMENT ON COLUMN galaxy.alerts.details IS 'The features over the thresholds (feature, kind, psi, status) and the relation, or the error and SQLSTATE, or what the rule saw (value, threshold, model, job) and the retraining job it submitted (retrain_job) or why it could not (retrain_error)';
COMMENT ON COLUMN galaxy.alerts.acknowledged_at IS 'When galaxy.acknowledge_alert marked it';
COMMENT ON COLUMN galaxy.alerts.acknowledged_by IS 'Role that acknowledged it';
COMMENT ON COLUMN galaxy.alerts.resolved_at IS 'When it was resolved';
COMMENT ON COLUMN galaxy.alerts.resolved_by IS 'Role that resolved it';
COMMENT ON COLUMN galaxy.alerts.rule_id IS 'Alert rule that raised it (NULL for a schedule''s own alert, or once the rule is removed); a rule has at most one unresolved alert';

-- schedule_status
COMMENT ON COLUMN galaxy.schedule_status.id IS 'Schedule id';
COMMENT ON COLUMN galaxy.schedule_status.name IS 'Schedule name';
COMMENT ON COLUMN galaxy.schedule_status.project IS 'Project checked';
COMMENT ON COLUMN galaxy.schedule_status.kind IS 'What runs: drift, evaluate or retrain';
COMMENT ON COLUMN galaxy.schedule_status.schedule IS 'The schedule text';
COMMENT ON COLUMN galaxy.schedule_status.checks IS 'Relation checked, or the window of logged predictions';
COMMENT ON COLUMN galaxy.schedule_status.enabled IS 'Whether it runs';
COMMENT ON COLUMN galaxy.schedule_status.owner IS 'Role the check runs as';
COMMENT ON COLUMN galaxy.schedule_status.next_run IS 'When it runs next';
COMMENT ON COLUMN galaxy.schedule_status.last_run IS 'When it last ran';
COMMENT ON COLUMN galaxy.schedule_status.last_status IS 'ok, alert or failed';
COMMENT ON COLUMN galaxy.schedule_status.last_error IS 'Error message of the last run when it failed';
COMMENT ON COLUMN galaxy.schedule_status.last_sqlstate IS 'SQLSTATE of the last run when it failed';
COMMENT ON COLUMN galaxy.schedule_status.runs IS 'Runs so far';
COMMENT ON COLUMN galaxy.schedule_status.failures IS 'Runs that failed';
COMMENT ON COLUMN galaxy.schedule_status.alerts IS 'Runs that found a feature over the thresholds';
COMMENT ON COLUMN galaxy.schedule_status.overdue IS 'Due more than a minute ago (the monitor worker is not keeping up, or is not running)';
COMMENT ON COLUMN galaxy.schedule_status.last_job_id IS 'A retrain schedule: the job its last successful run submitted';

-- alert_list
COMMENT ON COLUMN galaxy.alert_list.id IS 'Alert id';
COMMENT ON COLUMN galaxy.alert_list.raised_at IS 'When it was raised';
COMMENT ON COLUMN galaxy.alert_list.project IS 'Project concerned';
COMMENT ON COLUMN galaxy.alert_list.schedule IS 'Schedule that raised it';
COMMENT ON COLUMN galaxy.alert_list.kind IS 'drift, schedule_failed, metric_below, latency_above, job_failed or schedule_missed';
COMMENT ON COLUMN galaxy.alert_list.severity IS 'critical or warning';
COMMENT ON COLUMN galaxy.alert_list.message IS 'What happened, in words';
COMMENT ON COLUMN galaxy.alert_list.acknowledged_at IS 'When it was acknowledged';
COMMENT ON COLUMN galaxy.alert_list.acknowledged_by IS 'Role that acknowledged it';
COMMENT ON COLUMN galaxy.alert_list.resolved_at IS 'When it was resolved';
COMMENT ON COLUMN galaxy.alert_list.resolved_by IS 'Role that resolved it';
COMMENT ON COLUMN galaxy.alert_list.state IS 'open, acknowledged or resolved';
COMMENT ON COLUMN galaxy.alert_list.rule_id IS 'Alert rule that raised it (NULL: a schedule''s own alert)';

-- alert_rules
COMMENT ON COLUMN galaxy.alert_rules.id IS 'Rule id';
COMMENT ON COLUMN galaxy.alert_rules.project_id IS 'Project watched';
COMMENT ON COLUMN galaxy.alert_rules.kind IS 'metric_below, latency_above, drift, job_failed or schedule_missed';
COMMENT ON COLUMN galaxy.alert_rules.metric IS 'metric_below: the metric of the scheduled evaluations compared (empty for the other kinds)';
COMMENT ON COLUMN galaxy.alert_rules.threshold IS 'metric_below: the lowest acceptable value; latency_above: p99 in milliseconds; drift: a PSI (NULL: the project''s drift threshold); schedule_missed: periods overdue (NULL: 1)';
COMMENT ON COLUMN galaxy.alert_rules.severity IS 'Severity of its alerts: warning or critical';
COMMENT ON COLUMN galaxy.alert_rules.retrain IS 'Whether a firing submits a retraining job (galaxy.submit, as the owner)';
COMMENT ON COLUMN galaxy.alert_rules.relation IS 'Relation the retraining job reads (NULL: the current model''s)';
COMMENT ON COLUMN galaxy.alert_rules.enabled IS 'Whether the rule is checked';
COMMENT ON COLUMN galaxy.alert_rules.owner IS 'Role that set the rule; a retraining job runs as it';
COMMENT ON COLUMN galaxy.alert_rules.owner_oid IS 'OID of the owner role';
COMMENT ON COLUMN galaxy.alert_rules.created_at IS 'When the rule was created';
COMMENT ON COLUMN galaxy.alert_rules.fired_at IS 'When it last raised an alert (events before it count no more)';
COMMENT ON COLUMN galaxy.alert_rules.fired IS 'Alerts it raised';

-- alert_rule_list
COMMENT ON COLUMN galaxy.alert_rule_list.id IS 'Rule id';
COMMENT ON COLUMN galaxy.alert_rule_list.project IS 'Project watched';
COMMENT ON COLUMN galaxy.alert_rule_list.kind IS 'metric_below, latency_above, drift, job_failed or schedule_missed';
COMMENT ON COLUMN galaxy.alert_rule_list.metric IS 'metric_below: the metric compared';
COMMENT ON COLUMN galaxy.alert_rule_list.threshold IS 'The threshold (its unit depends on the kind)';
COMMENT ON COLUMN galaxy.alert_rule_list.severity IS 'warning or critical';
COMMENT ON COLUMN galaxy.alert_rule_list.retrain IS 'Whether a firing submits a retraining job';
COMMENT ON COLUMN galaxy.alert_rule_list.relation IS 'Relation a retraining job reads (NULL: the current model''s)';
COMMENT ON COLUMN galaxy.alert_rule_list.enabled IS 'Whether the rule is checked';
COMMENT ON COLUMN galaxy.alert_rule_list.owner IS 'Role that set the rule';
COMMENT ON COLUMN galaxy.alert_rule_list.created_at IS 'When the rule was created';
COMMENT ON COLUMN galaxy.alert_rule_list.fired_at IS 'When it last raised an alert';
COMMENT ON COLUMN galaxy.alert_rule_list.fired IS 'Alerts it raised';
COMMENT ON COLUMN galaxy.alert_rule_list.open_alert IS 'Whether an alert of it is unresolved (it raises no other until then)';

-- evaluations
COMMENT ON COLUMN galaxy.evaluations.id IS 'Row id';
COMMENT ON COLUMN galaxy.evaluations.schedule_id IS 'Schedule that ran the evaluation (NULL once removed)';
COMMENT ON COLUMN galaxy.evaluations.schedule IS 'Its name at the time';
COMMENT ON COLUMN galaxy.evaluations.project_id IS 'Project evaluated';
COMMENT ON COLUMN galaxy.evaluations.model_id IS 'The deployed model that was scored';
COMMENT ON COLUMN galaxy.evaluations.version IS 'Its version';
COMMENT ON COLUMN galaxy.evaluations.relation IS 'Relation scored, schema-qualified';
COMMENT ON COLUMN galaxy.evaluations.metric IS 'Metric name (accuracy, f1_macro, r2, rmse, ...)';
COMMENT ON COLUMN galaxy.evaluations.value IS 'Its value';
COMMENT ON COLUMN galaxy.evaluations.rows IS 'Rows scored';
COMMENT ON COLUMN galaxy.evaluations.evaluated_at IS 'When the evaluation ran';

-- evaluation_list
COMMENT ON COLUMN galaxy.evaluation_list.id IS 'Row id';
COMMENT ON COLUMN galaxy.evaluation_list.evaluated_at IS 'When the evaluation ran';
COMMENT ON COLUMN galaxy.evaluation_list.project IS 'Project name';
COMMENT ON COLUMN galaxy.evaluation_list.schedule IS 'Schedule name';
COMMENT ON COLUMN galaxy.evaluation_list.model_id IS 'The deployed model that was scored';
COMMENT ON COLUMN galaxy.evaluation_list.version IS 'Its version';
COMMENT ON COLUMN galaxy.evaluation_list.relation IS 'Relation scored';
COMMENT ON COLUMN galaxy.evaluation_list.metric IS 'Metric name';
COMMENT ON COLUMN galaxy.evaluation_list.value IS 'Its value';
COMMENT ON COLUMN galaxy.evaluation_list.rows IS 'Rows scored';

-- drift_list
COMMENT ON COLUMN galaxy.drift_list.id IS 'Row id of galaxy.drift_history';
COMMENT ON COLUMN galaxy.drift_list.computed_at IS 'When galaxy.drift() computed it';
COMMENT ON COLUMN galaxy.drift_list.project IS 'Project name';
COMMENT ON COLUMN galaxy.drift_list.model_id IS 'The model compared';
COMMENT ON COLUMN galaxy.drift_list.version IS 'Its version';
COMMENT ON COLUMN galaxy.drift_list.relation IS 'The relation compared';
COMMENT ON COLUMN galaxy.drift_list.baseline IS 'training, or the baseline relation';
COMMENT ON COLUMN galaxy.drift_list.feature IS 'Feature name, or (prediction)';
COMMENT ON COLUMN galaxy.drift_list.kind IS 'numeric, categorical or prediction';
COMMENT ON COLUMN galaxy.drift_list.rows IS 'Rows of the relation';
COMMENT ON COLUMN galaxy.drift_list.psi IS 'Population stability index';
COMMENT ON COLUMN galaxy.drift_list.ks_statistic IS 'Kolmogorov-Smirnov statistic (numeric only)';
COMMENT ON COLUMN galaxy.drift_list.ks_p_value IS 'Its asymptotic p-value (numeric only)';
COMMENT ON COLUMN galaxy.drift_list.js_distance IS 'Jensen-Shannon distance (base 2, 0 to 1)';
COMMENT ON COLUMN galaxy.drift_list.linf_distance IS 'Largest difference of a category''s share (categorical only)';
COMMENT ON COLUMN galaxy.drift_list.status IS 'ok, warning or drift';
