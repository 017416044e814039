// How commits, durations and counts are written in the log and the summaries.
import assert from 'node:assert/strict';
import { plural, seconds, short } from '../../tasks/common/core/base/format';

describe('format', () => {
  it('writes a commit as its first 8 hex digits, and no commit as nothing', () => {
    assert.equal(short('3cced9be0123456789abcdef0123456789abcdef'), '3cced9be');
    assert.equal(short(null), '');
  });

  it('writes durations under a minute in seconds (at least 1s), and from a minute on in minutes and seconds', () => {
    assert.equal(seconds(0), '1s');
    assert.equal(seconds(9_400), '9s');
    assert.equal(seconds(59_000), '59s');
    assert.equal(seconds(60_000), '1m00s');
    assert.equal(seconds(65_000), '1m05s');
    assert.equal(seconds(754_000), '12m34s');
    assert.equal(seconds(59_600), '1m00s', 'rounded to whole seconds before minutes');
    assert.equal(seconds(119_600), '2m00s');
    assert.equal(seconds(3_599_700), '60m00s');
  });

  it('writes counts with the singular for one only', () => {
    assert.equal(plural(1, 'commit'), '1 commit');
    assert.equal(plural(3, 'commit'), '3 commits');
    assert.equal(plural(0, 'dyno'), '0 dynos');
    assert.equal(plural(2, 'process', 'processes'), '2 processes');
  });
});
