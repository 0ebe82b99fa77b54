import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ErrorBanner, Section, Spinner } from '../../shared/ui.tsx';
import { Badge, ConfirmButton, ScreenHeader } from '../components.tsx';
import { usePanel } from '../context.ts';

interface Plan {
  id: string;
  title: string;
  description: string;
  priceStars: number;
  periodDays: number;
  status: 'active' | 'archived';
}

export function PlansScreen() {
  const { api, t } = usePanel();
  const [plans, setPlans] = useState<Plan[]>();
  const [error, setError] = useState<unknown>();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [price, setPrice] = useState('500');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<unknown>();

  const load = useCallback(() => {
    setError(undefined);
    api
      .get<{ items: Plan[] }>('/api/panel/subscription-plans')
      .then((r) => setPlans(r.items))
      .catch(setError);
  }, [api]);
  useEffect(load, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFormError(undefined);
    try {
      const plan = await api.send<Plan>('POST', '/api/panel/subscription-plans', {
        title,
        description,
        priceStars: Number(price),
      });
      setPlans((old) => [plan, ...(old ?? [])]);
      setTitle('');
      setDescription('');
    } catch (e) {
      setFormError(e);
    } finally {
      setBusy(false);
    }
  }

  async function setStatus(plan: Plan, status: Plan['status']) {
    const updated = await api.send<Plan>('PATCH', `/api/panel/subscription-plans/${plan.id}`, { status });
    setPlans((old) => old?.map((p) => (p.id === updated.id ? updated : p)));
  }

  return (
    <>
      <ScreenHeader title={t.tabs.plans} />
      <div className="two-columns">
        <Section title={t.plansListTitle} id="plans-list">
          <ErrorBanner error={error} fallback={t.networkError} />
          {!plans && !error && <Spinner label={t.loading} />}
          {plans?.length === 0 && <p className="hint">{t.noPlans}</p>}
          <ul className="cards">
            {plans?.map((plan) => (
              <li key={plan.id} className="card">
                <div className="card-head">
                  <h3>{plan.title}</h3>
                  <Badge tone={plan.status === 'active' ? 'ok' : 'neutral'}>
                    {plan.status === 'active' ? t.onSale : t.archived}
                  </Badge>
                </div>
                <p>{plan.description}</p>
                <p className="price">{t.perMonth(plan.priceStars)}</p>
                <div className="row actions">
                  {plan.status === 'active' ? (
                    <ConfirmButton
                      label={t.archive}
                      className="danger"
                      question={t.confirmArchive(plan.title)}
                      onConfirm={() => setStatus(plan, 'archived')}
                    />
                  ) : (
                    <ConfirmButton
                      label={t.unarchive}
                      question={`${t.unarchive}: ${plan.title}?`}
                      onConfirm={() => setStatus(plan, 'active')}
                    />
                  )}
                </div>
              </li>
            ))}
          </ul>
        </Section>
        <Section title={t.createPlan} id="plan-create">
          <form className="stack" onSubmit={create}>
            <div>
              <label htmlFor="plan-title">{t.planTitle}</label>
              <input
                id="plan-title"
                value={title}
                required
                maxLength={32}
                onChange={(e) => setTitle(e.target.value)}
              />
            </div>
            <div>
              <label htmlFor="plan-description">{t.planDescription}</label>
              <textarea
                id="plan-description"
                value={description}
                required
                maxLength={255}
                onChange={(e) => setDescription(e.target.value)}
              />
            </div>
            <div>
              <label htmlFor="plan-price">{t.planPrice}</label>
              <input
                id="plan-price"
                type="number"
                inputMode="numeric"
                min={1}
                max={10_000}
                step={1}
                required
                value={price}
                onChange={(e) => setPrice(e.target.value)}
              />
            </div>
            <ErrorBanner error={formError} fallback={t.networkError} />
            <div className="row">
              <button type="submit" disabled={busy}>
                {t.create}
              </button>
            </div>
          </form>
        </Section>
      </div>
    </>
  );
}
