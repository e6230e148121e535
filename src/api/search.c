/*
 * search.c — hyperparameter search spaces (with the architecture keys
 * n_layers / units of neural architecture search), proposals (grid, random,
 * a tree-structured Parzen estimator for bayesian, successive halving, and
 * the candidates of an auto search), the search objective and the
 * galaxy.searches / galaxy.trials rows.  Every random choice comes from util/rng.h seeded by
 * the request's seed, so a search proposes the same trials on every run.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "galaxy.h"
#include "api/search.h"
#include "util/jsonb_build.h"
#include "util/query.h"
#include "util/rng.h"

/* The random stream of proposals ("SRCH"). */
#define SEARCH_STREAM UINT64CONST(0x53524348)
/* Candidates the Parzen estimator draws from the good trials' density per proposal. */
#define TPE_CANDIDATES 24

typedef enum DimKind
{
	DIM_LIST,					/* a list, or {"choice": [...]} */
	DIM_UNIFORM,				/* {"uniform": [lo, hi]} */
	DIM_LOG_UNIFORM,			/* {"log_uniform": [lo, hi]}, lo > 0 */
	DIM_INT						/* {"int": [lo, hi]}, integers, both ends included */
} DimKind;

/* One searched hyperparameter. */
typedef struct SearchDim
{
	char	   *name;
	DimKind		kind;
	int			n_choices;		/* DIM_LIST */
	JsonbValue *choices;		/* DIM_LIST: the values (containers as jbvBinary) */
	double		lo;				/* ranges: the ends (DIM_LOG_UNIFORM: as given) */
	double		hi;
	int			layer;			/* architecture: 0 = n_layers, k = width of hidden layer k; -1 = a hyperparameter */
} SearchDim;

struct Search
{
	const AlgorithmDef *algo;
	bool		grid;
	bool		bayesian;
	int			n_dims;
	SearchDim  *dims;
	int			budget;
	int			n_startup;		/* bayesian: random trials before the model proposes */
	Jsonb	   *base_hp;
	GalaxyRng	rng;
	double	   *x;				/* budget x n_dims: choice index or value of each trial */
	bool	   *ok;				/* budget: trial observed with a finite score */
	double	   *score;			/* budget: its score, larger better (negated when lower is better) */

	/* successive halving ("halving"): configurations, rungs and each trial's place */
	bool		halving;
	const HyperParamSpec *resource;	/* the algorithm's budget_param */
	int			resource_max;	/* its value in the base hyperparameters (or default) */
	int			n_configs;
	double	   *cfg;			/* n_configs x n_dims */
	int			n_rungs;
	int		   *rung_size;		/* configurations in each rung */
	int		   *rung_start;		/* first trial of each rung */
	int		   *rung_resource;	/* the resource each rung fits with */
	int		   *trial_cfg;		/* budget: configuration of each trial */
	int		   *trial_rung;		/* budget: rung of each trial */

	/* architecture keys n_layers / units: the list hyperparameter they make, or NULL */
	const char *arch_target;
	bool		arch_split;		/* as dims n_layers, units_1..units_L (else one list of architectures) */

	/* algorithm => 'auto': each candidate algorithm's trials, its defaults first */
	bool		autoalg;
	int			n_auto;
	int			per_algo;
	const AlgorithmDef **auto_algo;
	Search	  **auto_sub;		/* random search over the candidate's built-in space, or NULL */
	Jsonb	   *space;			/* the space as given, or auto's built-in spaces */
};

/* Successive halving keeps the best third of a rung and triples its resource. */
#define HALVING_ETA 3
/* Configurations a halving search samples when its space has ranges and no search_trials is given. */
#define HALVING_DEFAULT_CONFIGS 27

/* ---------- parsing ---------- */

/* The spec of an algorithm's hyperparameter, or NULL. */
static const HyperParamSpec *
find_spec(const AlgorithmDef *algo, const char *name)
{
	int			i = algo_param_index(algo, name);

	return i >= 0 ? &algo->params[i] : NULL;
}

/* The names of an algorithm's hyperparameters, for hints. */
static char *
spec_names(const AlgorithmDef *algo)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < algo->n_params; i++)
		appendStringInfo(&s, "%s%s", i > 0 ? ", " : "", algo->params[i].name);
	return s.data;
}

/* ERROR 22023 about the search space, naming the hyperparameter. */
static void space_error(const char *name, const char *msg, const char *hint) pg_attribute_noreturn();
static void
space_error(const char *name, const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("search_space: hyperparameter \"%s\" %s", name, msg),
			 hint ? errhint("%s", hint) : 0));
}

/* The elements of a JSON array container. */
static JsonbValue *
array_elements(JsonbContainer *c, int *n)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *out = palloc(sizeof(JsonbValue) * Max(JsonContainerSize(c), 1));
	int			k = 0;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
			out[k++] = v;
	*n = k;
	return out;
}

/* A numeric JsonbValue as a double (the caller checked its type). */
static double
json_number(const JsonbValue *v)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* {name: value} merged over the base hyperparameters, resolved: the algorithm's own checks. */
static void
check_value(const Search *s, const char *name, const JsonbValue *value)
{
	JsonbParseState *st = NULL;
	JsonbValue	base;
	JsonbValue *res;
	HyperParams hp;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	if (s->base_hp)
	{
		JsonbIterator *it = JsonbIteratorInit(&s->base_hp->root);
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &base, true)) != WJB_DONE)
			if (tok == WJB_KEY || tok == WJB_VALUE)
				pushJsonbValue(&st, tok, &base);
	}
	jb_key(&st, name);
	pushJsonbValue(&st, WJB_VALUE, (JsonbValue *) value);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	algo_resolve_hyperparams(s->algo, JsonbValueToJsonb(res), &hp);
}

/* A number as a JsonbValue. */
static JsonbValue
number_value(double d)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(d)));
	return v;
}

/* Parse one range object {"uniform" | "log_uniform" | "int" | "choice": ...}. */
static void
parse_range(Search *s, SearchDim *d, const HyperParamSpec *spec, JsonbContainer *obj)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	char	   *kind = NULL;
	JsonbValue *ends;
	int			n;

	if (JsonContainerSize(obj) != 1)
		space_error(d->name, "must be a list or an object with one key",
					"Write {\"uniform\": [lo, hi]}, {\"log_uniform\": [lo, hi]}, {\"int\": [lo, hi]} or {\"choice\": [v1, v2, ...]}.");
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		kind = pnstrdup(k.val.string.val, k.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		break;
	}
	Assert(kind != NULL);
	if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
		space_error(d->name, psprintf("has \"%s\" without an array", kind),
					"Write {\"uniform\": [lo, hi]}, {\"log_uniform\": [lo, hi]}, {\"int\": [lo, hi]} or {\"choice\": [v1, v2, ...]}.");
	ends = array_elements(v.val.binary.data, &n);
	if (strcmp(kind, "choice") == 0)
	{
		d->kind = DIM_LIST;
		d->choices = ends;
		d->n_choices = n;
		if (n == 0)
			space_error(d->name, "has an empty choice", NULL);
		return;
	}
	if (strcmp(kind, "uniform") == 0)
		d->kind = DIM_UNIFORM;
	else if (strcmp(kind, "log_uniform") == 0)
		d->kind = DIM_LOG_UNIFORM;
	else if (strcmp(kind, "int") == 0)
		d->kind = DIM_INT;
	else
		space_error(d->name, psprintf("has an unknown range kind \"%s\"", kind),
					"Valid kinds: uniform, log_uniform, int, choice.");
	if (n != 2 || ends[0].type != jbvNumeric || ends[1].type != jbvNumeric)
		space_error(d->name, psprintf("needs \"%s\": [lo, hi] with two numbers", kind), NULL);
	d->lo = json_number(&ends[0]);
	d->hi = json_number(&ends[1]);
	if (!isfinite(d->lo) || !isfinite(d->hi) || !(d->lo < d->hi))
		space_error(d->name, psprintf("has the empty range [%g, %g]", d->lo, d->hi),
					"The range's low end must be less than its high end.");
	if (d->kind == DIM_LOG_UNIFORM && d->lo <= 0)
		space_error(d->name, psprintf("has log_uniform from %g: its ends must be positive", d->lo), NULL);
	if (d->kind == DIM_INT && (d->lo != floor(d->lo) || d->hi != floor(d->hi)))
		space_error(d->name, psprintf("has int ends %g and %g that are not integers", d->lo, d->hi), NULL);
	if (spec->type != HP_INT && spec->type != HP_FLOAT)
		space_error(d->name, "takes no numeric range: it is not a number",
					"Give its values as a list (or {\"choice\": [...]}).");
	if (spec->type == HP_INT && d->kind != DIM_INT)
		space_error(d->name, psprintf("is an integer: \"%s\" would propose fractions", kind),
					"Use {\"int\": [lo, hi]}.");
	/* both ends must be values the algorithm accepts */
	for (int e = 0; e < 2; e++)
	{
		JsonbValue	nv = number_value(e == 0 ? d->lo : d->hi);

		check_value(s, d->name, &nv);
	}
}

/* Random value of a dimension (defined with the proposals below). */
static double random_value(Search *s, const SearchDim *d);

/*
 * The rungs of a successive-halving search over n configurations: rung r
 * fits floor(n / 3^r) of them (at least one) with resource_max / 3^(K - r)
 * iterations, K = the number of times n can be divided by 3 (bounded so the
 * first rung fits at least one iteration); the last rung fits the full count.
 */
static void
halving_plan(Search *s, double grid_size, int trials, Jsonb *base_hp)
{
	const AlgorithmDef *algo = s->algo;
	HyperParams hp;
	int			n,
				K = 0,
				total = 0,
				idx = -1;
	double		div = 1;

	for (int i = 0; i < algo->n_params; i++)
		if (strcmp(algo->params[i].name, algo->budget_param) == 0)
			idx = i;
	if (idx < 0 || algo->params[idx].type != HP_INT)
		elog(ERROR, "algorithm %s's budget_param \"%s\" is not an integer hyperparameter",
			 algo->name, algo->budget_param);
	s->resource = &algo->params[idx];
	algo_resolve_hyperparams(algo, base_hp, &hp);
	s->resource_max = (int) hp.values[idx];

	/* the grid when every hyperparameter is a list and no budget is given, else random draws */
	if (trials > 0)
		n = trials;
	else
	{
		bool		all_lists = true;

		for (int d = 0; d < s->n_dims; d++)
			all_lists &= s->dims[d].kind == DIM_LIST;
		if (all_lists && grid_size > SEARCH_MAX_TRIALS / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the search grid has %.0f points, more than a halving search may start with (%d)",
							grid_size, SEARCH_MAX_TRIALS / 2),
					 errhint("List fewer values, or give search_trials to sample that many configurations.")));
		n = all_lists ? (int) grid_size : HALVING_DEFAULT_CONFIGS;
	}
	if (n > SEARCH_MAX_TRIALS / 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a halving search starts with at most %d configurations, got %d", SEARCH_MAX_TRIALS / 2, n)));
	while (div * HALVING_ETA <= n && div * HALVING_ETA <= s->resource_max)
	{
		div *= HALVING_ETA;
		K++;
	}
	s->n_configs = n;
	s->n_rungs = K + 1;
	s->rung_size = palloc(sizeof(int) * s->n_rungs);
	s->rung_start = palloc(sizeof(int) * s->n_rungs);
	s->rung_resource = palloc(sizeof(int) * s->n_rungs);
	div = 1;
	for (int r = 0; r < s->n_rungs; r++)
	{
		s->rung_size[r] = Max(1, (int) floor(n / div));
		s->rung_start[r] = total;
		total += s->rung_size[r];
		div *= HALVING_ETA;
	}
	div = 1;
	for (int r = s->n_rungs - 1; r >= 0; r--)
	{
		s->rung_resource[r] = Max(1, (int) floor(s->resource_max / div + 0.5));
		div *= HALVING_ETA;
	}
	s->budget = total;
	s->trial_cfg = palloc0(sizeof(int) * total);
	s->trial_rung = palloc0(sizeof(int) * total);
	for (int r = 0; r < s->n_rungs; r++)
		for (int i = 0; i < s->rung_size[r]; i++)
			s->trial_rung[s->rung_start[r] + i] = r;
	for (int i = 0; i < s->rung_size[0]; i++)
		s->trial_cfg[i] = i;
}

/* The configurations of a halving search: the grid's points in order, or random draws. */
static void
halving_configs(Search *s, double grid_size, int trials)
{
	bool		grid = trials <= 0 && (int) grid_size == s->n_configs;

	for (int d = 0; d < s->n_dims && grid; d++)
		grid = s->dims[d].kind == DIM_LIST;
	s->cfg = palloc(sizeof(double) * Max(s->n_configs * s->n_dims, 1));
	for (int c = 0; c < s->n_configs; c++)
	{
		double	   *x = s->cfg + (Size) c * s->n_dims;
		int			rest = c;

		for (int d = s->n_dims - 1; d >= 0; d--)
		{
			if (grid)
			{
				x[d] = rest % s->dims[d].n_choices;
				rest /= s->dims[d].n_choices;
			}
		}
		if (!grid)
			for (int d = 0; d < s->n_dims; d++)
				x[d] = random_value(s, &s->dims[d]);
	}
}

/*
 * Promote to rung r (r >= 1) the best rung_size[r] configurations of rung
 * r - 1: trials that failed rank last, ties go to the earlier trial.
 */
static void
halving_promote(Search *s, int r)
{
	int			prev = s->rung_start[r - 1];
	int			n = s->rung_size[r - 1];
	int		   *order = palloc(sizeof(int) * n);

	for (int i = 0; i < n; i++)
	{
		int			v = prev + i,
					j = i - 1;

		/* insertion sort, best first */
		while (j >= 0 && ((s->ok[v] && !s->ok[order[j]]) ||
						  (s->ok[v] && s->ok[order[j]] && s->score[v] > s->score[order[j]])))
		{
			order[j + 1] = order[j];
			j--;
		}
		order[j + 1] = v;
	}
	for (int i = 0; i < s->rung_size[r]; i++)
		s->trial_cfg[s->rung_start[r] + i] = s->trial_cfg[order[i]];
	pfree(order);
}

/* Whether trial t is scored with the algorithm's full settings (always, but in a halving search's early rungs). */
bool
search_trial_final(const Search *s, int t)
{
	return !s->halving || s->trial_rung[t] == s->n_rungs - 1;
}

/* Rung of trial t in a halving search, -1 otherwise. */
int
search_trial_rung(const Search *s, int t)
{
	return s->halving ? s->trial_rung[t] : -1;
}

/* Iterations trial t fits per fold (its budget_param's value) in a halving search, 0 otherwise. */
int
search_trial_resource(const Search *s, int t)
{
	return s->halving ? s->rung_resource[s->trial_rung[t]] : 0;
}

/* The iterations a full fit of every configuration would take per fold, 0 unless halving. */
int64
search_full_resource(const Search *s)
{
	return s->halving ? (int64) s->n_configs * s->resource_max : 0;
}

/* ---------- architecture keys (neural architecture search) ---------- */

/* The list hyperparameters n_layers and units stand for, in order of preference. */
static const char *const arch_targets[] = {"hidden_layers", "dense_units"};

/*
 * The integer list hyperparameter of algo that "n_layers" / "units" make
 * (hidden_layers of neural_network, dense_units of cnn), or NULL when the
 * algorithm has none or has a hyperparameter of that very name.
 */
static const char *
arch_target(const AlgorithmDef *algo, const char *key)
{
	if (strcmp(key, "n_layers") != 0 && strcmp(key, "units") != 0)
		return NULL;
	if (find_spec(algo, key) != NULL)
		return NULL;
	for (int i = 0; i < lengthof(arch_targets); i++)
	{
		const HyperParamSpec *spec = find_spec(algo, arch_targets[i]);

		if (spec && spec->type == HP_INT_LIST)
			return arch_targets[i];
	}
	return NULL;
}

/* An integer list value [w, ..., w] (n times) as a JsonbValue of the search's target. */
static JsonbValue
int_list_value(const int *w, int n)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	Jsonb	   *jb;
	JsonbValue	v;

	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
		jb_int(&st, WJB_ELEM, w[i]);
	res = pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	jb = JsonbValueToJsonb(res);
	v.type = jbvBinary;
	v.val.binary.data = &jb->root;
	v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	return v;
}

/*
 * Parse an architecture key's value: a list of integers, {"choice": [...]}
 * or {"int": [lo, hi]}, each value in [lo_ok, hi_ok]; the widths of "units"
 * are checked as a one-layer value of the target.
 */
static void
parse_arch_dim(Search *s, SearchDim *d, const JsonbValue *v, int lo_ok, int hi_ok)
{
	const char *how = "Write a list of integers, {\"choice\": [...]} or {\"int\": [lo, hi]}.";
	JsonbValue *e;
	int			n;
	char	   *kind = "list";

	if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	k,
					inner;
		JsonbIteratorToken tok;

		if (JsonContainerSize(v->val.binary.data) != 1)
			space_error(d->name, "must be a list or an object with one key", how);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_KEY)
			;
		kind = pnstrdup(k.val.string.val, k.val.string.len);
		(void) JsonbIteratorNext(&it, &inner, true);
		if (strcmp(kind, "choice") != 0 && strcmp(kind, "int") != 0)
			space_error(d->name, psprintf("has the range kind \"%s\": an architecture key takes choice or int",
										  galaxy_short(kind)), how);
		if (inner.type != jbvBinary || !JsonContainerIsArray(inner.val.binary.data))
			space_error(d->name, psprintf("has \"%s\" without an array", kind), how);
		e = array_elements(inner.val.binary.data, &n);
	}
	else if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
		e = array_elements(v->val.binary.data, &n);
	else
		space_error(d->name, "must be a list of integers or a range object", how);

	for (int i = 0; i < n; i++)
	{
		double		x;

		if (e[i].type != jbvNumeric)
			space_error(d->name, "takes integers only", how);
		x = json_number(&e[i]);
		if (x != floor(x) || x < lo_ok || x > hi_ok)
			space_error(d->name, psprintf("has %g: its values are integers from %d to %d", x, lo_ok, hi_ok), NULL);
	}
	if (strcmp(kind, "int") == 0)
	{
		if (n != 2)
			space_error(d->name, "needs \"int\": [lo, hi] with two numbers", NULL);
		d->kind = DIM_INT;
		d->lo = json_number(&e[0]);
		d->hi = json_number(&e[1]);
		if (!(d->lo < d->hi))
			space_error(d->name, psprintf("has the empty range [%g, %g]", d->lo, d->hi),
						"The range's low end must be less than its high end.");
	}
	else
	{
		if (n == 0)
			space_error(d->name, strcmp(kind, "choice") == 0 ? "has an empty choice" : "has an empty list",
						"Give at least one value.");
		d->kind = DIM_LIST;
		d->choices = e;
		d->n_choices = n;
	}
	/* widths: each must be a width the algorithm accepts */
	if (d->layer > 0)
	{
		int			ends[2] = {(int) d->lo, (int) d->hi};

		if (d->kind == DIM_LIST)
			for (int c = 0; c < d->n_choices; c++)
			{
				int			w = (int) json_number(&d->choices[c]);
				JsonbValue	lv = int_list_value(&w, 1);

				check_value(s, s->arch_target, &lv);
			}
		else
			for (int c = 0; c < 2; c++)
			{
				JsonbValue	lv = int_list_value(&ends[c], 1);

				check_value(s, s->arch_target, &lv);
			}
	}
}

/* The largest value of an integer dimension. */
static int
dim_max_int(const SearchDim *d)
{
	int			m = 0;

	if (d->kind == DIM_INT)
		return (int) d->hi;
	for (int c = 0; c < d->n_choices; c++)
		m = Max(m, (int) json_number(&d->choices[c]));
	return m;
}

/*
 * Turn the architecture keys into dimensions: for grid (and halving) over
 * lists, one list of every architecture (for each number of layers, every
 * combination of widths, the last layer's fastest); otherwise n_layers and
 * one width per possible layer (units_1 ...), which the trial cuts to its
 * number of layers.
 */
static void
arch_dims(Search *s, const JsonbValue *nl_v, const JsonbValue *units_v, double *grid_size)
{
	SearchDim	nl = {0},
				un = {0};
	int			max_layers;

	if (nl_v == NULL || units_v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_space: \"n_layers\" and \"units\" go together"),
				 errhint("Give both, e.g. {\"n_layers\": [1, 2], \"units\": [32, 64]}, or list whole architectures: {\"%s\": [[64], [128, 64]]}.",
						 s->arch_target)));
	nl.name = "n_layers";
	nl.layer = 0;
	parse_arch_dim(s, &nl, nl_v, 0, GALAXY_MAX_HP_LIST);
	un.name = "units";
	un.layer = 1;
	parse_arch_dim(s, &un, units_v, 1, INT_MAX);
	max_layers = dim_max_int(&nl);

	if ((s->grid || s->halving) && nl.kind == DIM_LIST && un.kind == DIM_LIST)
	{
		/* every architecture, as one list dimension of the target */
		double		total = 0;
		SearchDim  *d = &s->dims[s->n_dims++];
		int			k = 0;

		for (int c = 0; c < nl.n_choices; c++)
			total += pow(un.n_choices, json_number(&nl.choices[c]));
		if (total * *grid_size > SEARCH_MAX_TRIALS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the search's architectures and hyperparameters make %.0f points, more than the %d trials a search may run",
							total * *grid_size, SEARCH_MAX_TRIALS),
					 errhint("List fewer layer counts or widths, or sample them with search => 'random' or 'bayesian'.")));
		d->name = (char *) s->arch_target;
		d->kind = DIM_LIST;
		d->layer = -1;
		d->n_choices = (int) total;
		d->choices = palloc(sizeof(JsonbValue) * Max(d->n_choices, 1));
		for (int c = 0; c < nl.n_choices; c++)
		{
			int			n = (int) json_number(&nl.choices[c]);
			int			combos = (int) pow(un.n_choices, n);
			int		   *w = palloc(sizeof(int) * Max(n, 1));

			for (int i = 0; i < combos; i++)
			{
				int			rest = i;

				for (int l = n - 1; l >= 0; l--)
				{
					w[l] = (int) json_number(&un.choices[rest % un.n_choices]);
					rest /= un.n_choices;
				}
				d->choices[k++] = int_list_value(w, n);
			}
			pfree(w);
		}
		*grid_size *= total;
		return;
	}
	if (s->grid)
		space_error(nl.kind != DIM_LIST ? "n_layers" : "units",
					"has a range, but a grid search needs a list of values",
					"List the values to try, or use search => 'random' or 'bayesian' for ranges.");
	s->arch_split = true;
	s->dims[s->n_dims++] = nl;
	for (int l = 1; l <= max_layers; l++)
	{
		SearchDim  *d = &s->dims[s->n_dims++];

		*d = un;
		d->name = psprintf("units_%d", l);
		d->layer = l;
	}
	if (nl.kind == DIM_LIST)
		*grid_size *= nl.n_choices;
	if (un.kind == DIM_LIST)
		*grid_size *= pow(un.n_choices, max_layers);
}

/* Parse and check a search. */
Search *
search_prepare(const AlgorithmDef *algo, const char *strategy, Jsonb *space, int trials,
			   Jsonb *base_hp, int seed)
{
	Search	   *s = palloc0(sizeof(Search));
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	double		grid_size = 1;
	JsonbValue *nl_v = NULL,
			   *units_v = NULL;
	bool		target_listed = false;

	if (strategy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_space needs search => 'grid', 'random' or 'bayesian'")));
	if (strcmp(strategy, "grid") == 0)
		s->grid = true;
	else if (strcmp(strategy, "bayesian") == 0)
		s->bayesian = true;
	else if (strcmp(strategy, "halving") == 0)
		s->halving = true;
	else if (strcmp(strategy, "random") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown search strategy \"%s\"", galaxy_short(strategy)),
				 errhint("Valid strategies: grid, random, bayesian, halving.")));
	if (s->halving && algo->budget_param == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("search => 'halving' needs an iterative algorithm; %s has no iteration count to halve", algo->name),
				 errhint("Halving searches gradient_boosting, random_forest and neural_network; use grid, random or bayesian for %s.",
						 algo->name)));
	if (space == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("search => '%s' needs a search_space", strategy),
				 errhint("Pass search_space => '{\"hyperparameter\": [value, ...]}'.")));
	if (!JB_ROOT_IS_OBJECT(space) || JB_ROOT_IS_SCALAR(space))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_space must be a JSON object of hyperparameters")));
	if (JB_ROOT_COUNT(space) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_space must not be empty"),
				 errhint("Name at least one hyperparameter of %s: %s.", algo->name, spec_names(algo))));
	if (base_hp && (!JB_ROOT_IS_OBJECT(base_hp) || JB_ROOT_IS_SCALAR(base_hp)))
		base_hp = NULL;			/* algo_resolve_hyperparams has said what is wrong with it */

	s->algo = algo;
	s->base_hp = base_hp;
	s->space = space;
	/* room for the architecture keys' widths, one per possible layer */
	s->dims = palloc0(sizeof(SearchDim) * (JB_ROOT_COUNT(space) + GALAXY_MAX_HP_LIST + 1));
	it = JsonbIteratorInit(&space->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		SearchDim  *d;
		const HyperParamSpec *spec;
		char	   *name;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(k.val.string.val, k.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		if (arch_target(algo, name) != NULL)
		{
			/* n_layers / units: made into dimensions once both are read */
			s->arch_target = arch_target(algo, name);
			if (strcmp(name, "n_layers") == 0)
				nl_v = memcpy(palloc(sizeof(JsonbValue)), &v, sizeof(JsonbValue));
			else
				units_v = memcpy(palloc(sizeof(JsonbValue)), &v, sizeof(JsonbValue));
			continue;
		}
		d = &s->dims[s->n_dims++];
		d->name = name;
		d->layer = -1;
		spec = find_spec(algo, d->name);
		if (spec == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search_space: unknown hyperparameter \"%s\" of algorithm %s",
							galaxy_short(d->name), algo->name),
					 errhint("Hyperparameters of %s: %s%s.", algo->name, spec_names(algo),
							 arch_target(algo, "n_layers") ? "; architecture keys: n_layers, units" : "")));
		for (int i = 0; i < lengthof(arch_targets); i++)
			target_listed |= strcmp(d->name, arch_targets[i]) == 0;
		if (s->halving && strcmp(d->name, algo->budget_param) == 0)
			space_error(d->name, "is what search => 'halving' gives each rung: it cannot be searched too",
						psprintf("Set the full %s in hyperparams; the first rungs fit with a fraction of it.", d->name));
		if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
		{
			d->kind = DIM_LIST;
			d->choices = array_elements(v.val.binary.data, &d->n_choices);
			if (d->n_choices == 0)
				space_error(d->name, "has an empty list", "Give at least one value.");
		}
		else if (v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data))
			parse_range(s, d, spec, v.val.binary.data);
		else
			space_error(d->name, "must be a list of values or a range object",
						"Write [v1, v2, ...] or {\"uniform\": [lo, hi]}, {\"log_uniform\": [lo, hi]}, {\"int\": [lo, hi]}, {\"choice\": [...]}.");
		if (d->kind == DIM_LIST)
		{
			for (int c = 0; c < d->n_choices; c++)
				check_value(s, d->name, &d->choices[c]);
			grid_size *= d->n_choices;
		}
		else if (s->grid)
			space_error(d->name, "has a range, but a grid search needs a list of values",
						"List the values to try, or use search => 'random' or 'bayesian' for ranges.");
	}
	if (nl_v != NULL || units_v != NULL)
	{
		if (target_listed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search_space: give either \"%s\" or \"n_layers\" and \"units\", not both", s->arch_target),
					 errhint("n_layers and units make the %s of each trial.", s->arch_target)));
		arch_dims(s, nl_v, units_v, &grid_size);
	}

	if (s->grid)
	{
		if (grid_size > SEARCH_MAX_TRIALS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the search grid has %.0f points, more than the %d trials a search may run",
							grid_size, SEARCH_MAX_TRIALS),
					 errhint("List fewer values, or sample the space with search => 'random' or 'bayesian'.")));
		if (trials > 0 && trials < (int) grid_size)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the search grid has %d points, but search_trials is %d", (int) grid_size, trials),
					 errhint("A grid search tries every point: leave search_trials out, or sample with search => 'random'.")));
		s->budget = (int) grid_size;
	}
	else if (s->halving)
		halving_plan(s, grid_size, trials, base_hp);
	else
		s->budget = trials > 0 ? trials : SEARCH_DEFAULT_TRIALS;
	s->n_startup = Min(s->budget, Max(3, Min(10, s->budget / 4)));
	s->x = palloc0(sizeof(double) * s->budget * s->n_dims);
	s->ok = palloc0(sizeof(bool) * s->budget);
	s->score = palloc0(sizeof(double) * s->budget);
	galaxy_rng_seed(&s->rng, (uint64) seed, SEARCH_STREAM);
	if (s->halving)
		halving_configs(s, grid_size, trials);
	return s;
}

/* Number of trials the search runs. */
int
search_budget(const Search *s)
{
	return s->budget;
}

/* Whether a trial's proposal depends on earlier trials' results (or, auto, names its own algorithm). */
bool
search_is_sequential(const Search *s)
{
	return s->bayesian || s->halving || s->autoalg;
}

/* The space the search ranges over: as given, or auto's built-in spaces by algorithm. */
Jsonb *
search_space(const Search *s)
{
	return s->space;
}

/* ---------- search objective ---------- */

/* Check search_objective: NULL, accuracy or accuracy_per_ms (ERROR 22023 otherwise). */
void
search_check_objective(const char *objective)
{
	if (objective != NULL && strcmp(objective, "accuracy") != 0 &&
		strcmp(objective, "accuracy_per_ms") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown search_objective \"%s\"", galaxy_short(objective)),
				 errhint("Valid objectives: accuracy (the search metric, the default) and accuracy_per_ms (the metric per millisecond of predict latency per row).")));
}

/*
 * What a search ranks a scored trial by: its score, or with
 * accuracy_per_ms its score per millisecond of predict latency per row
 * (ERROR 22023 when the metric is one where lower is better; NaN when no
 * latency was measured).
 */
double
search_objective_value(const char *objective, const char *metric, bool higher_is_better,
					   double score, double predict_ms)
{
	if (objective == NULL || strcmp(objective, "accuracy_per_ms") != 0)
		return score;
	if (!higher_is_better)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_objective accuracy_per_ms needs a metric where higher is better, not %s", metric),
				 errhint("Pass search_metric => 'r2' for regression, or leave search_objective out.")));
	if (!(predict_ms > 0) || !isfinite(score))
		return NAN;
	return score / predict_ms;
}

/* The architecture hyperparameters of a neural algorithm, shown per trial. */
static const char *const arch_names[] = {
	"hidden_layers", "layers", "conv_filters", "kernel_size", "pool_size", "dense_units",
	"units", "n_heads", "d_model", "activation", "dropout", "batch_norm"
};

/*
 * A trial's architecture: the resolved values of its algorithm's
 * architecture hyperparameters, for an algorithm that counts its parameters
 * (the neural ones); NULL for the others.
 */
Jsonb *
search_architecture(const AlgorithmDef *algo, const HyperParams *hp)
{
	Jsonb	   *all;
	JsonbParseState *st = NULL;
	JsonbValue *res;

	if (algo->count_parameters == NULL)
		return NULL;
	all = algo_hyperparams_jsonb(algo, hp, false);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < lengthof(arch_names); i++)
	{
		JsonbValue *v = getKeyJsonValueFromContainer(&all->root, arch_names[i], strlen(arch_names[i]), NULL);

		if (v == NULL)
			continue;
		jb_key(&st, arch_names[i]);
		pushJsonbValue(&st, WJB_VALUE, v);
	}
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* ---------- algorithm => 'auto' ---------- */

/* A candidate of an auto search: an algorithm, its tasks, and the small space its extra trials draw from. */
typedef struct AutoCandidate
{
	const char *algorithm;
	uint32		tasks;
	const char *space;
} AutoCandidate;

#define AUTO_REG TASK_BIT(TASK_REGRESSION)
#define AUTO_CLS TASK_BIT(TASK_CLASSIFICATION)
#define AUTO_CLU TASK_BIT(TASK_CLUSTERING)

static const AutoCandidate auto_candidates[] = {
	{"linear_regression", AUTO_REG, "{\"alpha\": {\"log_uniform\": [0.0001, 100]}}"},
	{"lasso", AUTO_REG, "{\"alpha\": {\"log_uniform\": [0.0001, 10]}}"},
	{"logistic_regression", AUTO_CLS, "{\"C\": {\"log_uniform\": [0.01, 100]}}"},
	{"naive_bayes", AUTO_CLS, "{\"var_smoothing\": {\"log_uniform\": [1e-12, 0.001]}}"},
	{"linear_svm", AUTO_CLS, "{\"C\": {\"log_uniform\": [0.01, 100]}}"},
	{"decision_tree", AUTO_REG | AUTO_CLS, "{\"max_depth\": {\"int\": [2, 12]}, \"min_samples_leaf\": {\"int\": [1, 20]}}"},
	{"random_forest", AUTO_REG | AUTO_CLS, "{\"n_estimators\": {\"int\": [20, 100]}, \"max_depth\": {\"int\": [4, 16]}}"},
	{"gradient_boosting", AUTO_REG | AUTO_CLS,
	"{\"n_estimators\": {\"int\": [20, 150]}, \"learning_rate\": {\"log_uniform\": [0.03, 0.3]}, \"max_depth\": {\"int\": [2, 8]}}"},
	{"neural_network", AUTO_REG | AUTO_CLS,
	"{\"n_layers\": [1, 2], \"units\": [32, 64], \"learning_rate\": {\"log_uniform\": [0.001, 0.01]}}"},
	{"kmeans", AUTO_CLU, "{\"n_clusters\": {\"int\": [2, 10]}}"}
};

/* Check an auto search's arguments (the task is known only once the rows are read). */
void
search_check_auto(const char *algorithm, const char *strategy, Jsonb *space, int trials)
{
	if (strcmp(strategy, "auto") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s search needs an explicit algorithm", galaxy_short(strategy)),
				 errhint("Pass algorithm => 'name', or search => 'auto' to try every suitable algorithm.")));
	if (strcmp(algorithm, "auto") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search => 'auto' tries every suitable algorithm: it needs algorithm => 'auto', not %s", algorithm),
				 errhint("Leave algorithm out, or search %s's hyperparameters with search => 'random' or 'bayesian'.", algorithm)));
	if (space != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search => 'auto' takes no search_space: each algorithm draws from its own small space"),
				 errhint("Leave search_space out; galaxy.searches.space shows the spaces used.")));
	if (trials > AUTO_MAX_PER_ALGORITHM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search => 'auto' runs at most %d trials per algorithm, got search_trials %d",
						AUTO_MAX_PER_ALGORITHM, trials),
				 errhint("search_trials is the budget of each candidate algorithm here (default %d).", AUTO_DEFAULT_PER_ALGORITHM)));
}

/*
 * An auto search for a task: every candidate algorithm of the task gets
 * per_algo trials (0: the default), its
 * defaults first, then random draws from its built-in space.
 */
Search *
search_prepare_auto(GalaxyTask task, int per_algo, int seed)
{
	Search	   *s = palloc0(sizeof(Search));
	JsonbParseState *st = NULL;
	JsonbValue *res;

	s->autoalg = true;
	s->per_algo = per_algo > 0 ? per_algo : AUTO_DEFAULT_PER_ALGORITHM;
	s->auto_algo = palloc(sizeof(AlgorithmDef *) * lengthof(auto_candidates));
	s->auto_sub = palloc0(sizeof(Search *) * lengthof(auto_candidates));
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < lengthof(auto_candidates); i++)
	{
		const AutoCandidate *c = &auto_candidates[i];
		Jsonb	   *space;

		if (!(c->tasks & TASK_BIT(task)))
			continue;
		space = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(c->space)));
		s->auto_algo[s->n_auto] = algo_by_name(c->algorithm);
		if (s->per_algo > 1)
			s->auto_sub[s->n_auto] = search_prepare(s->auto_algo[s->n_auto], "random", space,
													s->per_algo - 1, NULL, seed + s->n_auto);
		jb_kv_jsonb(&st, c->algorithm, space);
		s->n_auto++;
	}
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	if (s->n_auto == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("search => 'auto' has no candidate algorithm for task %s", galaxy_task_name(task))));
	s->space = JsonbValueToJsonb(res);
	s->budget = s->n_auto * s->per_algo;
	s->ok = palloc0(sizeof(bool) * s->budget);
	s->score = palloc0(sizeof(double) * s->budget);
	return s;
}

/* The algorithm trial t fits: the search's, or an auto search's candidate. */
const AlgorithmDef *
search_trial_algorithm(const Search *s, int t)
{
	return s->autoalg ? s->auto_algo[t / s->per_algo] : s->algo;
}

/* ---------- proposals ---------- */

/* The transformed range of a numeric dimension: log for log_uniform, +-0.5 around ints. */
static void
dim_bounds(const SearchDim *d, double *a, double *b)
{
	if (d->kind == DIM_LOG_UNIFORM)
	{
		*a = log(d->lo);
		*b = log(d->hi);
	}
	else if (d->kind == DIM_INT)
	{
		*a = d->lo - 0.5;
		*b = d->hi + 0.5;
	}
	else
	{
		*a = d->lo;
		*b = d->hi;
	}
}

/* A value of a numeric dimension from its transformed coordinate. */
static double
dim_value(const SearchDim *d, double u)
{
	double		x;

	if (d->kind == DIM_LOG_UNIFORM)
		x = exp(u);
	else if (d->kind == DIM_INT)
		x = round(u);
	else
		x = u;
	return Max(d->lo, Min(d->hi, x));
}

/* The transformed coordinate of a numeric dimension's value. */
static double
dim_coord(const SearchDim *d, double x)
{
	return d->kind == DIM_LOG_UNIFORM ? log(x) : x;
}

/* An independent random value of a dimension. */
static double
random_value(Search *s, const SearchDim *d)
{
	double		a,
				b;

	if (d->kind == DIM_LIST)
		return (double) galaxy_rng_below(&s->rng, (uint64) d->n_choices);
	if (d->kind == DIM_INT)
		return d->lo + (double) galaxy_rng_below(&s->rng, (uint64) (d->hi - d->lo + 1));
	dim_bounds(d, &a, &b);
	return dim_value(d, a + galaxy_rng_uniform(&s->rng) * (b - a));
}

/*
 * A Parzen density over one numeric dimension: a Gaussian at each of the m
 * observed coordinates plus a uniform prior over the range, equally weighted.
 */
static double
parzen_log_density(const double *obs, int m, double a, double b, double sigma, double u)
{
	double		dens = 1.0 / (b - a);

	for (int i = 0; i < m; i++)
	{
		double		z = (u - obs[i]) / sigma;

		dens += exp(-0.5 * z * z) / (sigma * sqrt(2 * M_PI));
	}
	return log(dens / (m + 1));
}

/* Bandwidth of a Parzen density of m observations over [a, b]. */
static double
parzen_sigma(int m, double a, double b)
{
	return Max((b - a) * 0.25 * pow((double) Max(m, 1), -0.2), (b - a) / 100.0);
}

/* A draw from a Parzen density (component chosen uniformly, clipped to the range). */
static double
parzen_sample(GalaxyRng *rng, const double *obs, int m, double a, double b, double sigma)
{
	uint64		c = galaxy_rng_below(rng, (uint64) m + 1);
	double		u = 0;

	if (c == (uint64) m)
		return a + galaxy_rng_uniform(rng) * (b - a);
	for (int tries = 0; tries < 8; tries++)
	{
		u = obs[c] + sigma * galaxy_rng_normal(rng);
		if (u >= a && u <= b)
			return u;
	}
	return Max(a, Min(b, u));
}

/*
 * Tree-structured Parzen estimator: split the observed trials into the best
 * quarter ("good") and the rest; per dimension, l = density of the good
 * trials' values, g = of the others' (both with a prior); draw candidates
 * from l and propose the one with the largest l/g over all dimensions.
 * Categorical dimensions use smoothed frequencies.
 */
static void
tpe_propose(Search *s, int t, double *out)
{
	int		   *idx = palloc(sizeof(int) * Max(t, 1));
	int			n_ok = 0,
				n_good;
	double	   *good = palloc(sizeof(double) * Max(t, 1));
	double	   *bad = palloc(sizeof(double) * Max(t, 1));
	double	   *cand = palloc(sizeof(double) * TPE_CANDIDATES * s->n_dims);
	double	   *gain = palloc0(sizeof(double) * TPE_CANDIDATES);
	int			best = 0;

	for (int i = 0; i < t; i++)
		if (s->ok[i])
			idx[n_ok++] = i;
	/* best first; ties by trial order (insertion sort: t is small) */
	for (int i = 1; i < n_ok; i++)
	{
		int			v = idx[i],
					j = i - 1;

		while (j >= 0 && s->score[idx[j]] < s->score[v])
		{
			idx[j + 1] = idx[j];
			j--;
		}
		idx[j + 1] = v;
	}
	n_good = Min(Max(1, (int) ceil(0.25 * n_ok)), 25);
	n_good = Min(n_good, n_ok - 1);

	for (int d = 0; d < s->n_dims; d++)
	{
		const SearchDim *dim = &s->dims[d];

		if (dim->kind == DIM_LIST)
		{
			int			K = dim->n_choices;
			double	   *pl = palloc0(sizeof(double) * K);
			double	   *pg = palloc0(sizeof(double) * K);

			for (int c = 0; c < K; c++)
				pl[c] = pg[c] = 1.0;
			for (int i = 0; i < n_ok; i++)
			{
				int			c = (int) s->x[idx[i] * s->n_dims + d];

				if (i < n_good)
					pl[c] += 1.0;
				else
					pg[c] += 1.0;
			}
			for (int c = 0; c < K; c++)
			{
				pl[c] /= (n_good + K);
				pg[c] /= (n_ok - n_good + K);
			}
			for (int j = 0; j < TPE_CANDIDATES; j++)
			{
				double		r = galaxy_rng_uniform(&s->rng);
				int			c = 0;

				while (c < K - 1 && r >= pl[c])
				{
					r -= pl[c];
					c++;
				}
				cand[j * s->n_dims + d] = c;
				gain[j] += log(pl[c]) - log(pg[c]);
			}
			pfree(pl);
			pfree(pg);
		}
		else
		{
			double		a,
						b,
						sl,
						sg;
			int			m_bad = n_ok - n_good;

			dim_bounds(dim, &a, &b);
			for (int i = 0; i < n_ok; i++)
			{
				double		u = dim_coord(dim, s->x[idx[i] * s->n_dims + d]);

				if (i < n_good)
					good[i] = u;
				else
					bad[i - n_good] = u;
			}
			sl = parzen_sigma(n_good, a, b);
			sg = parzen_sigma(m_bad, a, b);
			for (int j = 0; j < TPE_CANDIDATES; j++)
			{
				double		x = dim_value(dim, parzen_sample(&s->rng, good, n_good, a, b, sl));
				double		u = dim_coord(dim, x);

				cand[j * s->n_dims + d] = x;
				gain[j] += parzen_log_density(good, n_good, a, b, sl, u) -
					parzen_log_density(bad, m_bad, a, b, sg, u);
			}
		}
	}
	for (int j = 1; j < TPE_CANDIDATES; j++)
		if (gain[j] > gain[best])
			best = j;
	memcpy(out, cand + best * s->n_dims, sizeof(double) * s->n_dims);
	pfree(idx);
	pfree(good);
	pfree(bad);
	pfree(cand);
	pfree(gain);
}

/* Push dimension d's value of a trial. */
static void
push_dim_value(JsonbParseState **st, const SearchDim *d, double x)
{
	jb_key(st, d->name);
	if (d->kind == DIM_LIST)
		pushJsonbValue(st, WJB_VALUE, &d->choices[(int) x]);
	else if (d->kind == DIM_INT)
		jb_int(st, WJB_VALUE, (int64) x);
	else
		jb_num(st, WJB_VALUE, x);
}

/*
 * Push the trial's searched values: every hyperparameter's, and with the
 * architecture keys the target list (the first n_layers widths).
 */
static void
push_values(JsonbParseState **st, const Search *s, const double *x)
{
	int			n_layers = -1;

	for (int d = 0; d < s->n_dims; d++)
	{
		const SearchDim *dim = &s->dims[d];

		if (dim->layer < 0)
			push_dim_value(st, dim, x[d]);
		else if (dim->layer == 0)
			n_layers = dim->kind == DIM_LIST ? (int) json_number(&dim->choices[(int) x[d]]) : (int) x[d];
	}
	if (n_layers >= 0)
	{
		jb_key(st, s->arch_target);
		pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
		for (int d = 0; d < s->n_dims; d++)
		{
			const SearchDim *dim = &s->dims[d];

			if (dim->layer >= 1 && dim->layer <= n_layers)
				jb_int(st, WJB_ELEM, dim->kind == DIM_LIST ?
					   (int64) json_number(&dim->choices[(int) x[d]]) : (int64) x[d]);
		}
		pushJsonbValue(st, WJB_END_ARRAY, NULL);
	}
}

/* Propose trial t. */
Jsonb *
search_propose(Search *s, int t, Jsonb **values)
{
	double	   *x = s->x + (Size) t * s->n_dims;
	JsonbParseState *st = NULL;
	JsonbValue *res;

	Assert(t >= 0 && t < s->budget);
	if (s->autoalg)
	{
		/* a candidate's defaults, then draws from its space */
		int			a = t / s->per_algo,
					j = t % s->per_algo;

		if (j > 0)
			return search_propose(s->auto_sub[a], j - 1, values);
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
		*values = JsonbValueToJsonb(res);
		return *values;
	}
	if (s->halving)
	{
		int			r = s->trial_rung[t];

		if (r > 0 && t == s->rung_start[r])
			halving_promote(s, r);
		memcpy(x, s->cfg + (Size) s->trial_cfg[t] * s->n_dims, sizeof(double) * s->n_dims);
	}
	else if (s->grid)
	{
		/* odometer over the lists, the last hyperparameter (in jsonb key order) fastest */
		int			rest = t;

		for (int d = s->n_dims - 1; d >= 0; d--)
		{
			x[d] = rest % s->dims[d].n_choices;
			rest /= s->dims[d].n_choices;
		}
	}
	else
	{
		int			n_ok = 0;

		for (int i = 0; i < t; i++)
			n_ok += s->ok[i] ? 1 : 0;
		if (s->bayesian && t >= s->n_startup && n_ok >= 2)
			tpe_propose(s, t, x);
		else
			for (int d = 0; d < s->n_dims; d++)
				x[d] = random_value(s, &s->dims[d]);
	}

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_values(&st, s, x);
	if (s->halving)
	{
		jb_key(&st, s->resource->name);
		jb_int(&st, WJB_VALUE, s->rung_resource[s->trial_rung[t]]);
	}
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	*values = JsonbValueToJsonb(res);

	/* the base hyperparameters, then the trial's (a repeated key keeps the last value) */
	st = NULL;
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	if (s->base_hp)
	{
		JsonbIterator *it = JsonbIteratorInit(&s->base_hp->root);
		JsonbIteratorToken tok;
		JsonbValue	v;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			if (tok == WJB_KEY || tok == WJB_VALUE)
				pushJsonbValue(&st, tok, &v);
	}
	push_values(&st, s, x);
	if (s->halving)
	{
		jb_key(&st, s->resource->name);
		jb_int(&st, WJB_VALUE, s->rung_resource[s->trial_rung[t]]);
	}
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* Record trial t's outcome. */
void
search_observe(Search *s, int t, bool ok, double score, bool higher_is_better)
{
	Assert(t >= 0 && t < s->budget);
	Assert(s->autoalg || s->x != NULL);
	s->ok[t] = ok && isfinite(score);
	s->score[t] = higher_is_better ? score : -score;
}

/* ---------- catalog ---------- */

/* Insert the galaxy.searches row (state running); returns its id. */
int64
search_insert(const Search *s, int64 project_id, const char *algorithm, const char *strategy,
			  Jsonb *space, const char *metric, bool higher_is_better, int folds, int seed,
			  int64 job_id, const char *objective, int64 max_parameters)
{
	QueryResult *r;
	char		nulls[12];

	memset(nulls, ' ', sizeof(nulls));
	if (folds < 2)
		nulls[7] = 'n';
	if (job_id == 0)
		nulls[9] = 'n';
	if (max_parameters <= 0)
		nulls[11] = 'n';
	r = catalog_query("INSERT INTO galaxy.searches (project_id, algorithm, strategy, space, budget, metric,"
					  " higher_is_better, folds, seed, job_id, objective, max_parameters)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
					  " RETURNING id",
					  12, (Oid[]) {INT8OID, TEXTOID, TEXTOID, JSONBOID, INT4OID, TEXTOID, BOOLOID, INT4OID,
					  INT4OID, INT8OID, TEXTOID, INT8OID},
					  (Datum[]) {Int64GetDatum(project_id), CStringGetTextDatum(algorithm),
						  CStringGetTextDatum(strategy), JsonbPGetDatum(space), Int32GetDatum(s->budget),
						  CStringGetTextDatum(metric), BoolGetDatum(higher_is_better), Int32GetDatum(folds),
						  Int32GetDatum(seed), Int64GetDatum(job_id),
						  CStringGetTextDatum(objective ? objective : "accuracy"),
					  Int64GetDatum(max_parameters)},
					  nulls, false, 1, SPI_OK_INSERT_RETURNING, "register the search");
	if (r->nrows != 1)
		elog(ERROR, "could not register the search: no row returned");
	return query_int64(r, 0, 1, 0);
}

/*
 * Insert a finished trial's galaxy.trials row and update its search's
 * counters and best trial: the candidate with the best objective (the
 * first of equal ones wins).
 */
void
search_record_trial(int64 search_id, int64 project_id, int trial, int rung, bool candidate,
					Jsonb *values, bool ok, double score, double score_std, const double *fold_scores,
					int n_folds, Jsonb *metrics, double seconds, const char *error_message,
					const char *sqlstate, const TrialCosts *costs)
{
	Datum	   *fs = palloc(sizeof(Datum) * Max(n_folds, 1));
	bool		scored = candidate && ok && isfinite(score) && isfinite(costs->objective);
	Datum		v[18];
	char		nulls[18];

	for (int f = 0; f < n_folds; f++)
		fs[f] = Float8GetDatum(fold_scores[f]);
	memset(nulls, ' ', sizeof(nulls));
	v[0] = Int64GetDatum(search_id);
	v[1] = Int32GetDatum(trial);
	v[2] = Int64GetDatum(project_id);
	v[3] = JsonbPGetDatum(values);
	v[4] = Float8GetDatum(score);
	v[5] = Float8GetDatum(score_std);
	v[6] = PointerGetDatum(construct_array(fs, n_folds, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[7] = metrics ? JsonbPGetDatum(metrics) : (Datum) 0;
	v[8] = CStringGetTextDatum(error_message ? error_message : "unknown error");
	v[9] = CStringGetTextDatum(sqlstate ? sqlstate : "XX000");
	v[10] = Float8GetDatum(Max(seconds, 0));
	v[11] = Int32GetDatum(rung);
	v[12] = CStringGetTextDatum(costs->algorithm);
	v[13] = costs->architecture ? JsonbPGetDatum(costs->architecture) : (Datum) 0;
	v[14] = Int64GetDatum(costs->parameters);
	v[15] = Float8GetDatum(costs->predict_ms);
	v[16] = Float8GetDatum(costs->objective);
	v[17] = BoolGetDatum(costs->skipped);
	if (rung < 0)
		nulls[11] = 'n';
	if (ok)
		nulls[8] = nulls[9] = 'n';
	else
		nulls[4] = nulls[5] = nulls[6] = 'n';
	if (metrics == NULL)
		nulls[7] = 'n';
	if (costs->architecture == NULL)
		nulls[13] = 'n';
	if (costs->parameters < 0)
		nulls[14] = 'n';
	if (!isfinite(costs->predict_ms))
		nulls[15] = 'n';
	if (!ok || !isfinite(costs->objective))
		nulls[16] = 'n';
	catalog_command("INSERT INTO galaxy.trials (search_id, trial, project_id, hyperparams, state, score,"
					" score_std, fold_scores, metrics, error_message, error_sqlstate, fit_seconds, rung,"
					" algorithm, architecture, parameters, predict_ms_per_row, objective)"
					" VALUES ($1, $2, $3, $4,"
					" CASE WHEN $18 THEN 'skipped' WHEN $9::text IS NULL THEN 'succeeded' ELSE 'failed' END,"
					" $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
					18, (Oid[]) {INT8OID, INT4OID, INT8OID, JSONBOID, FLOAT8OID, FLOAT8OID, FLOAT8ARRAYOID,
						JSONBOID, TEXTOID, TEXTOID, FLOAT8OID, INT4OID, TEXTOID, JSONBOID, INT8OID, FLOAT8OID,
					FLOAT8OID, BOOLOID},
					v, nulls, SPI_OK_INSERT, "record the trial");
	catalog_command("UPDATE galaxy.searches s SET trials_done = s.trials_done + 1,"
					" trials_failed = s.trials_failed + CASE WHEN $3 OR $7 THEN 0 ELSE 1 END,"
					" trials_skipped = s.trials_skipped + CASE WHEN $7 THEN 1 ELSE 0 END,"
					" best_trial = CASE WHEN b.better THEN $2 ELSE s.best_trial END,"
					" best_score = CASE WHEN b.better THEN $4 ELSE s.best_score END,"
					" best_hyperparams = CASE WHEN b.better THEN $5 ELSE s.best_hyperparams END"
					" FROM (SELECT x.id, $6 AND (x.best_trial IS NULL"
					"        OR CASE WHEN x.higher_is_better THEN $8 > t.objective ELSE $8 < t.objective END) AS better"
					"       FROM galaxy.searches x LEFT JOIN galaxy.trials t"
					"         ON t.search_id = x.id AND t.trial = x.best_trial"
					"       WHERE x.id = $1) b"
					" WHERE s.id = b.id",
					8, (Oid[]) {INT8OID, INT4OID, BOOLOID, FLOAT8OID, JSONBOID, BOOLOID, BOOLOID, FLOAT8OID},
					(Datum[]) {Int64GetDatum(search_id), Int32GetDatum(trial), BoolGetDatum(ok),
						Float8GetDatum(score), JsonbPGetDatum(values), BoolGetDatum(scored),
					BoolGetDatum(costs->skipped), Float8GetDatum(costs->objective)},
					NULL, SPI_OK_UPDATE, "update the search");
}

/* Mark a search succeeded with the model of its best configuration. */
void
search_finish(int64 search_id, int64 model_id)
{
	catalog_command("UPDATE galaxy.searches SET state = 'succeeded', model_id = $2,"
					" finished_at = greatest(clock_timestamp(), started_at) WHERE id = $1",
					2, (Oid[]) {INT8OID, INT8OID},
					(Datum[]) {Int64GetDatum(search_id), Int64GetDatum(model_id)},
					NULL, SPI_OK_UPDATE, "finish the search");
	catalog_command("UPDATE galaxy.models SET search_id = $1 WHERE id = $2",
					2, (Oid[]) {INT8OID, INT8OID},
					(Datum[]) {Int64GetDatum(search_id), Int64GetDatum(model_id)},
					NULL, SPI_OK_UPDATE, "link the model to its search");
}
