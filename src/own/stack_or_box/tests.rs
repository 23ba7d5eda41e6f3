//! The look for copies of a value on the stack, and the child's line, tested on their own.

use super::*;

/// 256 bytes whose image cannot be mistaken for paint or zeros.
#[derive(Clone, Copy)]
struct Record {
    words: [u64; 32],
}

fn record() -> Record {
    let seed = black_box(0x0123_4567_89ab_cdefu64);
    Record {
        words: std::array::from_fn(|i| seed.rotate_left(i as u32) ^ i as u64),
    }
}

/// Returned through a call the optimiser may not inline: the value is written to the caller's
/// frame and moved from there, so `Box::new` cannot have built it in place.
#[inline(never)]
fn record_from_a_call() -> Record {
    record()
}

fn sum(r: &Record) -> u64 {
    r.words.iter().fold(0, |a, w| a.wrapping_add(*w))
}

#[test]
fn the_look_finds_the_value_in_the_stack_paths_frame() {
    let size = size_of::<Record>();
    assert!(look(size, |top| on_stack(&record, &sum, Some(top))));
    // A value that is not there is not found: another seed's record is nowhere on this stack.
    let other = Record {
        words: [black_box(0x5555_aaaa_5555_aaaa); 32],
    };
    assert!(!look(size, |top| copy_in_frames_up_to(top, &other)));
}

#[test]
fn a_value_returned_by_a_call_is_moved_from_the_stack_into_the_box() {
    assert_eq!(box_built_on_stack(&record_from_a_call, &sum), Ok(true));
}

#[test]
fn a_value_made_of_paint_is_not_found_where_it_was_not_copied() {
    for with in PAINTS {
        let painted = [with; 64];
        assert!(!look(64, |top| copy_in_frames_up_to(top, &painted)));
        assert!(look(64, |top| on_stack(
            &|| [black_box(with); 64],
            &|a| a[0],
            Some(top)
        )));
    }
}

#[test]
fn a_child_line_reads_back_as_written() {
    let line = ChildLine {
        calls: 4096,
        stack_ns: 12.5,
        control_ns: 12.75,
        boxed_ns: 31.25,
        size_bytes: 256,
        type_name: "your_code::Account".into(),
        built_on_stack: true,
        stack_allocated: Allocated {
            blocks: 2,
            bytes: 40,
        },
        boxed_allocated: Allocated {
            blocks: 3,
            bytes: 296,
        },
        proof: "runs on mimalloc (...)".into(),
    };
    let ask = Ask {
        var: CHILD_ENV,
        marker: TIMED,
        name: "account",
        numbers: &[],
        what: "account".into(),
        fields: ChildLine::FIELDS,
    };
    let read = |name: &str| {
        let fields = line.fields(name).join("\t");
        ChildAnswer::read(&fields, &ask, AllocatorKind::Mimalloc, "account".into())
    };
    assert_eq!(
        ChildLine::parse(&read("account").unwrap()),
        Ok(line.clone())
    );
    let err = read("other").map(|_| ()).unwrap_err();
    assert!(err.starts_with("account: bad child line"), "{err}");
}

#[test]
fn a_value_written_straight_into_the_heap_is_not_found_on_the_stack() {
    let size = size_of::<Record>();
    let found = look(size, |top| {
        let mut boxed = Box::<Record>::new_uninit();
        let at = boxed.as_mut_ptr();
        let seed = black_box(0x0123_4567_89ab_cdefu64);
        for i in 0..32 {
            // SAFETY: each word of the uninitialised record, written once, in place.
            unsafe {
                std::ptr::addr_of_mut!((*at).words[i]).write(seed.rotate_left(i as u32) ^ i as u64)
            };
        }
        // SAFETY: every word was written above.
        let boxed = unsafe { boxed.assume_init() };
        copy_in_frames_up_to(top, &*boxed)
    });
    assert!(!found);
}
