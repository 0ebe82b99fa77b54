import { useState } from 'react';
import type { DayPlan, PlanContent } from '../api-types.ts';
import type { Texts } from '../texts.ts';

function Day({ day, t }: { day: DayPlan; t: Texts }) {
  return (
    <article className="day">
      <h3>
        {t.day(day.day)}: {day.title} <span className="hint">· {t.minutes(day.durationMinutes)}</span>
      </h3>
      {day.warmup && (
        <p>
          <strong>{t.warmup}:</strong> {day.warmup}
        </p>
      )}
      <ol className="exercises">
        {day.exercises.map((exercise, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a plan's exercises never reorder.
          <li key={index}>
            <span className="exercise-name">{exercise.name}</span>
            <span className="hint">
              {' '}
              — {t.exerciseLine(exercise.sets, exercise.reps, exercise.restSeconds)}
            </span>
            {exercise.notes && <div className="hint">{exercise.notes}</div>}
          </li>
        ))}
      </ol>
      {day.cooldown && (
        <p>
          <strong>{t.cooldown}:</strong> {day.cooldown}
        </p>
      )}
    </article>
  );
}

/** The plan, one week at a time: a row of week buttons, then that week's days and exercises. */
export function PlanContentView({ content, t }: { content: PlanContent; t: Texts }) {
  const [index, setIndex] = useState(0);
  const week = content.weeks[Math.min(index, content.weeks.length - 1)];
  return (
    <div className="stack">
      <p>{content.summary}</p>
      {content.weeks.length > 1 && (
        <nav aria-label={t.weeksNav} className="week-tabs">
          {content.weeks.map((item, i) => (
            <button
              key={item.week}
              type="button"
              className={i === index ? 'tab selected' : 'tab'}
              aria-pressed={i === index}
              onClick={() => setIndex(i)}
            >
              {t.week(item.week)}
            </button>
          ))}
        </nav>
      )}
      {week && (
        <section className="section" aria-labelledby="week-title">
          <h2 id="week-title">
            {t.week(week.week)}: {week.focus}
          </h2>
          <div className="stack">
            {week.days.map((day) => (
              <Day key={day.day} day={day} t={t} />
            ))}
          </div>
        </section>
      )}
      {content.guidelines.length > 0 && (
        <section className="section" aria-labelledby="guidelines-title">
          <h2 id="guidelines-title">{t.guidelines}</h2>
          <ul>
            {content.guidelines.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
