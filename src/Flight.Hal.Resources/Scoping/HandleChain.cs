using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>Growable lists of handles stored in pages of a thread-safe <see cref="SlabPool"/>, each list named by the
/// handle of its first page. Backs <c>ResourceScope</c>: no GC allocation, and a copied list freed twice meets a stale
/// page handle instead of freeing twice.</summary>
/// <remarks>
/// <para>Page layout: the handle of the next page (8 bytes), the item count (4), 4 spare, then
/// <see cref="ItemsPerPage"/> handles. New pages are linked right after the first, so the page after the first is always
/// the one being filled and <see cref="TryPop"/> returns items last-in first-out.</para>
/// <para>Distinct lists may be used by different threads at once; one list must be used by one thread at a time.</para>
/// </remarks>
internal sealed unsafe class HandleChain : IDisposable
{
    public const int PageBytes = 256;
    public const int ItemsPerPage = (PageBytes - HeaderBytes) / sizeof(ulong);
    private const int HeaderBytes = 16;

    private readonly SlabPool _pages;

    public HandleChain(int maxPages, NativeAllocator allocator)
    {
        _pages = new SlabPool(
            new PoolConfig
            {
                Type = ResourceType.Memory,
                BlockSize = PageBytes,
                Alignment = 64,
                MaxCount = maxPages,
                ThreadSafe = true,
                ThreadCacheSize = 0, // strict capacity: a page freed by one thread is available to every other at once
                Name = "scope pages",
            },
            allocator);
    }

    /// <summary>Pages in use and free.</summary>
    public PoolStats Stats => _pages.GetStats();

    /// <summary>Starts an empty list.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.PoolExhausted"/> / <see cref="ResourceStatus.OutOfMemory"/>.</returns>
    public ResourceStatus TryCreate(out ResourceHandle list)
    {
        ResourceStatus status = _pages.TryRent(out list);
        if (status == ResourceStatus.Ok)
        {
            Page* page = PageOf(list);
            page->Next = 0;
            page->Count = 0;
            page->Spare = 0;
        }

        return status;
    }

    /// <summary>Appends <paramref name="item"/> to <paramref name="list"/>.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> (the list was freed), or
    /// <see cref="ResourceStatus.PoolExhausted"/> / <see cref="ResourceStatus.OutOfMemory"/> (no page for it).</returns>
    public ResourceStatus TryAppend(ResourceHandle list, ResourceHandle item)
    {
        if (!_pages.IsRented(list.RawValue))
        {
            return ResourceStatus.StaleHandle;
        }

        Page* head = PageOf(list);
        Page* target = head;
        if (head->Count == ItemsPerPage)
        {
            target = head->Next != 0 ? PageOf(ResourceHandle.FromRawValue(head->Next)) : null;
            if (target == null || target->Count == ItemsPerPage)
            {
                ResourceStatus status = _pages.TryRent(out ResourceHandle fresh);
                if (status != ResourceStatus.Ok)
                {
                    return status;
                }

                target = PageOf(fresh);
                target->Next = head->Next;
                target->Count = 0;
                head->Next = fresh.RawValue;
            }
        }

        // SAFETY: target->Count < ItemsPerPage, so the slot lies inside the page.
        target->Items[target->Count++] = item.RawValue;
        return ResourceStatus.Ok;
    }

    /// <summary>Makes sure the next <see cref="TryAppend"/> to <paramref name="list"/> cannot fail for want of a page,
    /// renting the page now if one is needed, so a caller can reserve room before it acquires what it will append.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> (the list was freed), or
    /// <see cref="ResourceStatus.PoolExhausted"/> / <see cref="ResourceStatus.OutOfMemory"/> (no page).</returns>
    public ResourceStatus TryReserveSlot(ResourceHandle list)
    {
        if (!_pages.IsRented(list.RawValue))
        {
            return ResourceStatus.StaleHandle;
        }

        Page* head = PageOf(list);
        if (head->Count < ItemsPerPage || (head->Next != 0 && PageOf(ResourceHandle.FromRawValue(head->Next))->Count < ItemsPerPage))
        {
            return ResourceStatus.Ok; // TryAppend fills the first page, then the one linked right after it
        }

        ResourceStatus status = _pages.TryRent(out ResourceHandle fresh);
        if (status == ResourceStatus.Ok)
        {
            Page* page = PageOf(fresh);
            page->Next = head->Next;
            page->Count = 0;
            head->Next = fresh.RawValue;
        }

        return status;
    }

    /// <summary>Removes the item appended last; pages emptied on the way go back to the pool.</summary>
    /// <returns><see langword="false"/> when the list is empty or was freed.</returns>
    public bool TryPop(ResourceHandle list, out ResourceHandle item)
    {
        item = default;
        if (!_pages.IsRented(list.RawValue))
        {
            return false;
        }

        Page* head = PageOf(list);
        while (head->Next != 0)
        {
            var nextHandle = ResourceHandle.FromRawValue(head->Next);
            Page* next = PageOf(nextHandle);
            if (next->Count > 0)
            {
                item = ResourceHandle.FromRawValue(next->Items[--next->Count]);
                return true;
            }

            head->Next = next->Next;
            _pages.Return(nextHandle);
        }

        if (head->Count == 0)
        {
            return false;
        }

        item = ResourceHandle.FromRawValue(head->Items[--head->Count]);
        return true;
    }

    /// <summary>Items in <paramref name="list"/>, or -1 when it was freed.</summary>
    public int Count(ResourceHandle list)
    {
        if (!_pages.IsRented(list.RawValue))
        {
            return -1;
        }

        Page* head = PageOf(list);
        int count = head->Count;
        for (ulong next = head->Next; next != 0;)
        {
            Page* page = PageOf(ResourceHandle.FromRawValue(next));
            count += page->Count;
            next = page->Next;
        }

        return count;
    }

    /// <summary>Returns every page of <paramref name="list"/>; items still in it are forgotten.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.StaleHandle"/> (freed already).</returns>
    public ResourceStatus Free(ResourceHandle list)
    {
        if (!_pages.IsRented(list.RawValue))
        {
            return ResourceStatus.StaleHandle;
        }

        ulong next = PageOf(list)->Next;
        ResourceStatus status = _pages.Return(list);
        if (status != ResourceStatus.Ok)
        {
            return status; // another thread freed it first
        }

        while (next != 0)
        {
            var page = ResourceHandle.FromRawValue(next);
            next = PageOf(page)->Next;
            _pages.Return(page);
        }

        return ResourceStatus.Ok;
    }

    public void Dispose() => _pages.Dispose();

    /// <summary>The page store of <paramref name="manager"/>'s scopes, created on first use and disposed with the manager.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.OutOfMemory"/> when its bookkeeping could not be
    /// allocated; <see cref="ResourceStatus.CapacityExceeded"/> when every handle tag of the process is taken.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static ResourceStatus TryGetFor(ResourceManager manager, out HandleChain pages)
    {
        try
        {
            pages = manager.GetOrAddAttachment(static m => new HandleChain(m.Options.MaxScopePages, m.Allocator));
            return ResourceStatus.Ok;
        }
        catch (OutOfMemoryException)
        {
            pages = null!;
            return ResourceStatus.OutOfMemory;
        }
        catch (IssuerLimitException)
        {
            pages = null!;
            return ResourceStatus.CapacityExceeded;
        }
    }

    private Page* PageOf(ResourceHandle page)
    {
        // SAFETY: every handle passed here is the list's first page, checked by IsRented, or a page linked from it,
        // which stays rented for as long as it is linked.
        nint address = _pages.AddressOfRentedUnchecked(page.RawValue);
        Debug.Assert(address != 0, "A linked page is rented.");
        return (Page*)address;
    }

    private struct Page
    {
        public ulong Next;
        public int Count;
        public int Spare;
        public fixed ulong Items[ItemsPerPage];
    }
}
